export * from "./bytes.js";
export * from "./value.js";
export * from "./tx.js";
export * from "./keyfile.js";
export * from "./rpc.js";
export * from "./subscribe.js";
export * from "./verify.js";
export * as rpcTypes from "./openrpc-types.js";
export type { RpcMethods } from "./openrpc-types.js";
