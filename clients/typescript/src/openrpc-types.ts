// Generated from clients/openrpc.json (the node's rpc.discover document) by
// scripts/gen-types.mjs: do not edit. npm run gen regenerates it.

export type AccountRecord = {
  key: PublicKey;
  organization: string;
  roles: Array<string>;
};

export type AccountView = {
  account: AccountRecord;
  key: PublicKey;
  next_sequence: number;
};

export type Block = {
  header: BlockHeader;
  txs: Array<SignedTransaction>;
};

export type BlockHeader = {
  chain_id: string;
  height: number;
  justify: HexBytes;
  parent: Hash;
  proposer: PublicKey;
  round: number;
  timestamp_ms: number;
  tx_root: Hash;
};

export type BlockSummary = {
  accumulator_root: Hash;
  accumulator_size: number;
  hash: Hash;
  height: number;
  state_root: Hash;
  timestamp_ms: number;
  tx_count: number;
};

export type BlockTxHashes = {
  hash: Hash;
  height: number;
  tx_hashes: Array<Hash>;
};

export type CaptureOutcome = {
  captured: number;
  complete: boolean;
  events: Array<EpcisVerdict>;
};

export type DocumentRecord = {
  attach_tx: Hash;
  attached_by: string;
  hash: Hash;
  hash_algorithm: "sha256" | "blake3";
  index: number;
  item_id: string;
  media_type: string;
  uri: string;
};

export type EpcisEventView = {
  document: EpcisQueryDocument;
  hash_id: EventHashId;
  height: number;
  ledger_index: number;
  record: EpcisRecord;
};

/** An EPCIS 2.0 query document (JSON-LD, type EPCISQueryDocument); resultsBody also has waybill:records (one per event: hashId, ledgerIndex, height, txHash, capturedBy, errorDeclaration, declaredErroneousBy) and, when more events follow, waybill:nextFrom */
export type EpcisQueryDocument = { [key: string]: unknown };

export type EpcisQueryFilter = {
  EQ_bizStep?: string | null;
  EQ_location?: string | null;
  EQ_organization?: string | null;
  GE_eventTime?: string | null;
  LT_eventTime?: string | null;
  eventType?: string | null;
  item?: string | null;
};

export type EpcisRecord = {
  declared_erroneous: Hash | null;
  organization: string;
  tx_hash: Hash;
};

export type EpcisVerdict = {
  code?: string;
  hash_id: EventHashId | null;
  index: number;
  ledger_index?: number;
  message?: string;
  status: "refused" | "not_submitted" | "rejected" | "pending" | "committed" | "failed";
  tx_hash: Hash;
};

/** A CBV 2.0 EPCIS event hash ID (RFC 6920 ni URI of SHA-256) */
export type EventHashId = string;

export type EventKind = "account_added" | "account_removed" | "account_roles_set" | "commission" | "observe" | "custody_proposed" | "custody_accepted" | "custody_rejected" | "custody_cancelled" | "ownership_proposed" | "ownership_accepted" | "ownership_rejected" | "ownership_cancelled" | "aggregate" | "disaggregate" | "transform" | "document_attached" | "decommission" | "sensor_report" | "associate" | "business_transaction" | "error_declaration";

export type ExecStatus = "success" | {
  failed: {
    code: string;
    message: string;
  };
};

/** 32 bytes (blake3 unless stated), lowercase hex */
export type Hash = string;

export type HeadInfo = {
  accumulator_root: Hash;
  accumulator_size: number;
  chain_id: string;
  genesis_hash: Hash;
  hash: Hash;
  height: number;
  state_root: Hash;
};

export type HexBytes = string;

export type HistoryEntry = {
  height: number;
  items: Array<string>;
  kind: EventKind;
  ledger_index: number;
  organization: string;
  roles: Array<ItemRole>;
  tx_hash: Hash;
};

export type HistoryPage = {
  entries: Array<HistoryEntry>;
  next_from: number | null;
};

export type ItemEvent = {
  entry: HistoryEntry;
  item_id: string;
};

export type ItemRecord = {
  children: Array<string>;
  contents_count: number;
  custodian: string;
  decommission_reason: string | null;
  derived_from: Array<string>;
  document_count: number;
  id: string;
  item_type: string;
  last_observed_ms: number | null;
  location: string | null;
  owner: string;
  parent: string | null;
  properties: { [key: string]: JsonValue };
  status: ItemStatus;
  transformed_into: Array<string>;
};

export type ItemRole = "subject" | "container" | "child" | "contents" | "input" | "output";

export type ItemStatus = "active" | "consumed" | "decommissioned";

export type ItemView = {
  documents: Array<DocumentRecord>;
  height: number;
  item: ItemRecord;
  pending_transfer: PendingTransfer | null;
};

/** A JSON value whose numbers are integers of magnitude at most 2^53 - 1 or have at most 15 significant digits between 1e-300 and 1e300; signed as a typed value, so 4.50 and 4.5 are the same value (SIGNING.md) */
export type JsonValue = unknown;

export type NodeStatus = {
  certified_height?: number;
  checkpoint_divergences?: number;
  committed_height: number;
  idle?: boolean;
  mempool_size: number;
  name: string;
  observer?: boolean;
  peer_id: string;
  peer_names?: Array<string>;
  peers: Array<string>;
  round: number;
  syncing: boolean;
  validator_key: PublicKey;
  version?: string;
};

export type OrgRecord = {
  admins: Array<PublicKey>;
  id: string;
  name: string;
};

export type Packing = {
  children: Array<string>;
  container_id: string;
};

/** One supply-chain action, externally tagged: {"<kind>": {...}}. Limits (identifier syntax, sizes) are checked by the node; see SIGNING.md. */
export type Payload = {
  memo: {
    data: HexBytes;
  };
} | {
  add_account: {
    key: PublicKey;
    organization: string;
    roles?: Array<string>;
  };
} | {
  remove_account: {
    key: PublicKey;
    organization: string;
  };
} | {
  set_account_roles: {
    key: PublicKey;
    organization: string;
    roles: Array<string>;
  };
} | {
  commission: {
    item_id: string;
    item_type: string;
    location?: string | null;
    properties?: { [key: string]: JsonValue };
  };
} | {
  observe: {
    item_id: string;
    location?: string | null;
    readings?: Array<{
      kind: string;
      unit?: string | null;
      value: JsonValue;
    }>;
    time_ms: number;
  };
} | {
  propose_transfer: {
    item_id: string;
    kind: TransferKind;
    to_organization: string;
  };
} | {
  accept_transfer: TransferResponse;
} | {
  reject_transfer: TransferResponse;
} | {
  cancel_transfer: TransferResponse;
} | {
  aggregate: Packing;
} | {
  disaggregate: Packing;
} | {
  transform: {
    inputs: Array<string>;
    location?: string | null;
    outputs: Array<{
      item_id: string;
      item_type: string;
      properties?: { [key: string]: JsonValue };
    }>;
  };
} | {
  attach_document: {
    hash: Hash;
    hash_algorithm: "sha256" | "blake3";
    item_id: string;
    media_type: string;
    uri: string;
  };
} | {
  decommission: {
    item_id: string;
    reason?: string | null;
  };
} | {
  capture_epcis: {
    context: JsonValue;
    event: JsonValue;
    parties?: { [key: string]: string };
  };
};

export type PendingTransfer = {
  from_organization: string;
  item_id: string;
  kind: TransferKind;
  proposal_tx: Hash;
  proposer: PublicKey;
  to_organization: string;
};

export type Provenance = {
  nodes: Array<ProvenanceNode>;
  truncated: boolean;
};

export type ProvenanceNode = {
  custodian: string;
  depth: number;
  item_id: string;
  item_type: string;
  owner: string;
  relation: Relation;
  status: ItemStatus;
  via: string | null;
};

/** Ed25519 public key, lowercase hex */
export type PublicKey = string;

export type Receipt = {
  height: number;
  index_in_block: number;
  ledger_index: number;
  status: ExecStatus;
  tx_hash: Hash;
};

export type Relation = "root" | "made_from" | "packed_in" | "became_output" | "contains";

/** Ed25519 signature, lowercase hex */
export type Signature = string;

export type SignedTransaction = {
  signature: Signature;
  tx: Transaction;
};

export type StoredBlock = {
  accumulator_root_after: Hash;
  accumulator_size_after: number;
  block: Block;
  certificate: HexBytes;
};

export type SubmitAnswer = SubmitOutcome | {
  error: {
    code: number;
    data?: unknown;
    message: string;
  };
};

export type SubmitOutcome = {
  receipt?: Receipt;
  status: "pending" | "committed";
  tx_hash: Hash;
};

/** Names the subscription in its notifications and in unsubscribe */
export type SubscriptionId = number | string;

export type Transaction = {
  chain_id: string;
  payload: Payload;
  sequence: number;
  signer: PublicKey;
};

export type TransferKind = "custody" | "ownership";

export type TransferResponse = {
  item_id: string;
  kind: TransferKind;
};

export type TxInfo = {
  height: number | null;
  index_in_block: number | null;
  ledger_index: number | null;
  pending: boolean;
  receipt: Receipt | null;
  tx: SignedTransaction;
};

export type ValidatorInfo = {
  consensus_key: PublicKey;
  name: string;
  organization: string | null;
  peer_id: string;
  power: number;
};

/** Every method: its positional parameters and its result. */
export interface RpcMethods {
  "waybill_submitTransaction": {
    params: [tx: SignedTransaction, wait_ms?: number];
    result: SubmitOutcome;
  };
  "waybill_submitRawTransaction": {
    params: [hex: string, wait_ms?: number];
    result: SubmitOutcome;
  };
  "waybill_submitRawTransactions": {
    params: [hexes: Array<string>];
    result: Array<SubmitAnswer>;
  };
  "waybill_head": {
    params: [];
    result: HeadInfo;
  };
  "waybill_getBlockByHeight": {
    params: [height: number];
    result: StoredBlock | null;
  };
  "waybill_getBlockByHash": {
    params: [hash: Hash];
    result: StoredBlock | null;
  };
  "waybill_getBlockTxHashes": {
    params: [height: number];
    result: BlockTxHashes | null;
  };
  "waybill_getTransaction": {
    params: [hash: Hash];
    result: TxInfo | null;
  };
  "waybill_status": {
    params: [];
    result: NodeStatus;
  };
  "waybill_validators": {
    params: [];
    result: Array<ValidatorInfo>;
  };
  "waybill_nextSequence": {
    params: [account: PublicKey];
    result: number;
  };
  "waybill_subscribeBlocks": {
    params: [];
    result: SubscriptionId;
  };
  "waybill_unsubscribeBlocks": {
    params: [subscription: SubscriptionId];
    result: boolean;
  };
  "waybill_getStateRoot": {
    params: [height?: number];
    result: Hash | null;
  };
  "waybill_getItem": {
    params: [item_id: string];
    result: ItemView | null;
  };
  "waybill_getItemHistory": {
    params: [item_id: string, from?: number, limit?: number];
    result: HistoryPage;
  };
  "waybill_getProvenance": {
    params: [item_id: string, max_nodes?: number];
    result: Provenance | null;
  };
  "waybill_getOrganization": {
    params: [id: string];
    result: OrgRecord | null;
  };
  "waybill_organizations": {
    params: [];
    result: Array<OrgRecord>;
  };
  "waybill_getOrganizationEvents": {
    params: [id: string, from?: number, limit?: number];
    result: HistoryPage;
  };
  "waybill_getAccount": {
    params: [key: PublicKey];
    result: AccountView | null;
  };
  "waybill_subscribeItem": {
    params: [item_id: string];
    result: SubscriptionId;
  };
  "waybill_unsubscribeItem": {
    params: [subscription: SubscriptionId];
    result: boolean;
  };
  "waybill_getTransactionProof": {
    params: [hash: Hash];
    result: { [key: string]: unknown } | null;
  };
  "waybill_getItemProof": {
    params: [item_id: string, height?: number];
    result: { [key: string]: unknown };
  };
  "waybill_getItemHistoryProof": {
    params: [item_id: string];
    result: { [key: string]: unknown };
  };
  "waybill_getConsistencyProof": {
    params: [from_height: number, to_height?: number];
    result: { [key: string]: unknown };
  };
  "waybill_getEpochChanges": {
    params: [from_epoch?: number];
    result: Array<{ [key: string]: unknown }>;
  };
  "waybill_getSnapshotBase": {
    params: [height?: number];
    result: { [key: string]: unknown } | null;
  };
  "waybill_getStateChunk": {
    params: [node: Hash];
    result: unknown;
  };
  "waybill_captureEpcis": {
    params: [hexes: Array<string>, wait_ms?: number];
    result: CaptureOutcome;
  };
  "waybill_getEpcisEvent": {
    params: [hash_id: EventHashId];
    result: EpcisEventView | null;
  };
  "waybill_queryEpcis": {
    params: [filter: EpcisQueryFilter, from?: number, limit?: number];
    result: EpcisQueryDocument;
  };
  "rpc.discover": {
    params: [];
    result: { [key: string]: unknown };
  };
}
