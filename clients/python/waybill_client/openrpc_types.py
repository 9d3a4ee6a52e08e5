"""Generated from clients/openrpc.json (the node's rpc.discover document) by
waybill_client.gen: do not edit. python3 -m waybill_client.gen regenerates it."""
from decimal import Decimal  # noqa: F401
from typing import Any, Literal, NotRequired, TypedDict  # noqa: F401

AccountRecord = TypedDict("AccountRecord", {"key": "PublicKey", "organization": "str", "roles": "list[str]"})
AccountView = TypedDict("AccountView", {"account": "AccountRecord", "key": "PublicKey", "next_sequence": "int"})
Block = TypedDict("Block", {"header": "BlockHeader", "txs": "list[SignedTransaction]"})
BlockHeader = TypedDict("BlockHeader", {"chain_id": "str", "height": "int", "justify": "HexBytes", "parent": "Hash", "proposer": "PublicKey", "round": "int", "timestamp_ms": "int", "tx_root": "Hash"})
BlockSummary = TypedDict("BlockSummary", {"accumulator_root": "Hash", "accumulator_size": "int", "hash": "Hash", "height": "int", "state_root": "Hash", "timestamp_ms": "int", "tx_count": "int"})
BlockTxHashes = TypedDict("BlockTxHashes", {"hash": "Hash", "height": "int", "tx_hashes": "list[Hash]"})
CaptureOutcome = TypedDict("CaptureOutcome", {"captured": "int", "complete": "bool", "events": "list[EpcisVerdict]"})
DocumentRecord = TypedDict("DocumentRecord", {"attach_tx": "Hash", "attached_by": "str", "hash": "Hash", "hash_algorithm": "Literal[\"sha256\", \"blake3\"]", "index": "int", "item_id": "str", "media_type": "str", "uri": "str"})
EpcisEventView = TypedDict("EpcisEventView", {"document": "EpcisQueryDocument", "hash_id": "EventHashId", "height": "int", "ledger_index": "int", "record": "EpcisRecord"})
EpcisQueryDocument = "dict[str, Any]"
EpcisQueryFilter = TypedDict("EpcisQueryFilter", {"EQ_bizStep": "NotRequired[str | None]", "EQ_location": "NotRequired[str | None]", "EQ_organization": "NotRequired[str | None]", "GE_eventTime": "NotRequired[str | None]", "LT_eventTime": "NotRequired[str | None]", "eventType": "NotRequired[str | None]", "item": "NotRequired[str | None]"})
EpcisRecord = TypedDict("EpcisRecord", {"declared_erroneous": "Hash | None", "organization": "str", "tx_hash": "Hash"})
EpcisVerdict = TypedDict("EpcisVerdict", {"code": "NotRequired[str]", "hash_id": "EventHashId | None", "index": "int", "ledger_index": "NotRequired[int]", "message": "NotRequired[str]", "status": "Literal[\"refused\", \"not_submitted\", \"rejected\", \"pending\", \"committed\", \"failed\"]", "tx_hash": "Hash"})
EventHashId = "str"
EventKind = "Literal[\"account_added\", \"account_removed\", \"account_roles_set\", \"commission\", \"observe\", \"custody_proposed\", \"custody_accepted\", \"custody_rejected\", \"custody_cancelled\", \"ownership_proposed\", \"ownership_accepted\", \"ownership_rejected\", \"ownership_cancelled\", \"aggregate\", \"disaggregate\", \"transform\", \"document_attached\", \"decommission\", \"sensor_report\", \"associate\", \"business_transaction\", \"error_declaration\"]"
ExecStatus = "Literal[\"success\"] | dict[str, Any]"
Hash = "str"
HeadInfo = TypedDict("HeadInfo", {"accumulator_root": "Hash", "accumulator_size": "int", "chain_id": "str", "genesis_hash": "Hash", "hash": "Hash", "height": "int", "state_root": "Hash"})
HexBytes = "str"
HistoryEntry = TypedDict("HistoryEntry", {"height": "int", "items": "list[str]", "kind": "EventKind", "ledger_index": "int", "organization": "str", "roles": "list[ItemRole]", "tx_hash": "Hash"})
HistoryPage = TypedDict("HistoryPage", {"entries": "list[HistoryEntry]", "next_from": "int | None"})
ItemEvent = TypedDict("ItemEvent", {"entry": "HistoryEntry", "item_id": "str"})
ItemRecord = TypedDict("ItemRecord", {"children": "list[str]", "contents_count": "int", "custodian": "str", "decommission_reason": "str | None", "derived_from": "list[str]", "document_count": "int", "id": "str", "item_type": "str", "last_observed_ms": "int | None", "location": "str | None", "owner": "str", "parent": "str | None", "properties": "dict[str, JsonValue]", "status": "ItemStatus", "transformed_into": "list[str]"})
ItemRole = "Literal[\"subject\", \"container\", \"child\", \"contents\", \"input\", \"output\"]"
ItemStatus = "Literal[\"active\", \"consumed\", \"decommissioned\"]"
ItemView = TypedDict("ItemView", {"documents": "list[DocumentRecord]", "height": "int", "item": "ItemRecord", "pending_transfer": "PendingTransfer | None"})
JsonValue = "Any"
NodeStatus = TypedDict("NodeStatus", {"certified_height": "NotRequired[int]", "checkpoint_divergences": "NotRequired[int]", "committed_height": "int", "idle": "NotRequired[bool]", "mempool_size": "int", "name": "str", "observer": "NotRequired[bool]", "peer_id": "str", "peer_names": "NotRequired[list[str]]", "peers": "list[str]", "round": "int", "syncing": "bool", "validator_key": "PublicKey", "version": "NotRequired[str]"})
OrgRecord = TypedDict("OrgRecord", {"admins": "list[PublicKey]", "id": "str", "name": "str"})
Packing = TypedDict("Packing", {"children": "list[str]", "container_id": "str"})
Payload = "dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any] | dict[str, Any]"
PendingTransfer = TypedDict("PendingTransfer", {"from_organization": "str", "item_id": "str", "kind": "TransferKind", "proposal_tx": "Hash", "proposer": "PublicKey", "to_organization": "str"})
Provenance = TypedDict("Provenance", {"nodes": "list[ProvenanceNode]", "truncated": "bool"})
ProvenanceNode = TypedDict("ProvenanceNode", {"custodian": "str", "depth": "int", "item_id": "str", "item_type": "str", "owner": "str", "relation": "Relation", "status": "ItemStatus", "via": "str | None"})
PublicKey = "str"
Receipt = TypedDict("Receipt", {"height": "int", "index_in_block": "int", "ledger_index": "int", "status": "ExecStatus", "tx_hash": "Hash"})
Relation = "Literal[\"root\", \"made_from\", \"packed_in\", \"became_output\", \"contains\"]"
Signature = "str"
SignedTransaction = TypedDict("SignedTransaction", {"signature": "Signature", "tx": "Transaction"})
StoredBlock = TypedDict("StoredBlock", {"accumulator_root_after": "Hash", "accumulator_size_after": "int", "block": "Block", "certificate": "HexBytes"})
SubmitAnswer = "SubmitOutcome | dict[str, Any]"
SubmitOutcome = TypedDict("SubmitOutcome", {"receipt": "NotRequired[Receipt]", "status": "Literal[\"pending\", \"committed\"]", "tx_hash": "Hash"})
SubscriptionId = "int | str"
Transaction = TypedDict("Transaction", {"chain_id": "str", "payload": "Payload", "sequence": "int", "signer": "PublicKey"})
TransferKind = "Literal[\"custody\", \"ownership\"]"
TransferResponse = TypedDict("TransferResponse", {"item_id": "str", "kind": "TransferKind"})
TxInfo = TypedDict("TxInfo", {"height": "int | None", "index_in_block": "int | None", "ledger_index": "int | None", "pending": "bool", "receipt": "Receipt | None", "tx": "SignedTransaction"})
ValidatorInfo = TypedDict("ValidatorInfo", {"consensus_key": "PublicKey", "name": "str", "organization": "str | None", "peer_id": "str", "power": "int"})


# Every method: its positional parameters (name, type, required) and its result type.
METHODS = {
    "waybill_submitTransaction": {"params": [("tx", "SignedTransaction", True), ("wait_ms", "int", False)], "result": "SubmitOutcome"},
    "waybill_submitRawTransaction": {"params": [("hex", "str", True), ("wait_ms", "int", False)], "result": "SubmitOutcome"},
    "waybill_submitRawTransactions": {"params": [("hexes", "list[str]", True)], "result": "list[SubmitAnswer]"},
    "waybill_head": {"params": [], "result": "HeadInfo"},
    "waybill_getBlockByHeight": {"params": [("height", "int", True)], "result": "StoredBlock | None"},
    "waybill_getBlockByHash": {"params": [("hash", "Hash", True)], "result": "StoredBlock | None"},
    "waybill_getBlockTxHashes": {"params": [("height", "int", True)], "result": "BlockTxHashes | None"},
    "waybill_getTransaction": {"params": [("hash", "Hash", True)], "result": "TxInfo | None"},
    "waybill_status": {"params": [], "result": "NodeStatus"},
    "waybill_validators": {"params": [], "result": "list[ValidatorInfo]"},
    "waybill_nextSequence": {"params": [("account", "PublicKey", True)], "result": "int"},
    "waybill_subscribeBlocks": {"params": [], "result": "SubscriptionId"},
    "waybill_unsubscribeBlocks": {"params": [("subscription", "SubscriptionId", True)], "result": "bool"},
    "waybill_getStateRoot": {"params": [("height", "int", False)], "result": "Hash | None"},
    "waybill_getItem": {"params": [("item_id", "str", True)], "result": "ItemView | None"},
    "waybill_getItemHistory": {"params": [("item_id", "str", True), ("from", "int", False), ("limit", "int", False)], "result": "HistoryPage"},
    "waybill_getProvenance": {"params": [("item_id", "str", True), ("max_nodes", "int", False)], "result": "Provenance | None"},
    "waybill_getOrganization": {"params": [("id", "str", True)], "result": "OrgRecord | None"},
    "waybill_organizations": {"params": [], "result": "list[OrgRecord]"},
    "waybill_getOrganizationEvents": {"params": [("id", "str", True), ("from", "int", False), ("limit", "int", False)], "result": "HistoryPage"},
    "waybill_getAccount": {"params": [("key", "PublicKey", True)], "result": "AccountView | None"},
    "waybill_subscribeItem": {"params": [("item_id", "str", True)], "result": "SubscriptionId"},
    "waybill_unsubscribeItem": {"params": [("subscription", "SubscriptionId", True)], "result": "bool"},
    "waybill_getTransactionProof": {"params": [("hash", "Hash", True)], "result": "dict[str, Any] | None"},
    "waybill_getItemProof": {"params": [("item_id", "str", True), ("height", "int", False)], "result": "dict[str, Any]"},
    "waybill_getItemHistoryProof": {"params": [("item_id", "str", True)], "result": "dict[str, Any]"},
    "waybill_getConsistencyProof": {"params": [("from_height", "int", True), ("to_height", "int", False)], "result": "dict[str, Any]"},
    "waybill_getEpochChanges": {"params": [("from_epoch", "int", False)], "result": "list[dict[str, Any]]"},
    "waybill_getSnapshotBase": {"params": [("height", "int", False)], "result": "dict[str, Any] | None"},
    "waybill_getStateChunk": {"params": [("node", "Hash", True)], "result": "Any"},
    "waybill_captureEpcis": {"params": [("hexes", "list[str]", True), ("wait_ms", "int", False)], "result": "CaptureOutcome"},
    "waybill_getEpcisEvent": {"params": [("hash_id", "EventHashId", True)], "result": "EpcisEventView | None"},
    "waybill_queryEpcis": {"params": [("filter", "EpcisQueryFilter", True), ("from", "int", False), ("limit", "int", False)], "result": "EpcisQueryDocument"},
    "rpc.discover": {"params": [], "result": "dict[str, Any]"},
}
