"""Subscriptions (RPC.md, waybill_subscribeBlocks / waybill_subscribeItem) over WebSocket, one
connection per subscription:

    with client.subscribe_item("pallet-7") as events:
        for event in events:          # blocks until the next one; events.next(timeout=...) too
            print(event["entry"]["kind"])
"""
import json
from decimal import Decimal

from websockets.sync.client import connect

from .bcs import WaybillError


class Subscription:
    def __init__(self, url, method, params, unsubscribe):
        from .rpc import RpcError
        self._ws = connect(url.replace("http", "ws", 1))
        self._unsubscribe = unsubscribe
        self._ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv(timeout=30), parse_float=Decimal)
            if msg.get("id") == 1:
                break
        if "error" in msg:
            self._ws.close()
            e = msg["error"]
            raise RpcError(e["code"], e["message"], e.get("data"))
        self.id = msg["result"]

    def next(self, timeout=None):
        """The next notification's result; TimeoutError when none comes within `timeout` s."""
        while True:
            msg = json.loads(self._ws.recv(timeout=timeout), parse_float=Decimal)
            params = msg.get("params")
            if isinstance(params, dict) and params.get("subscription") == self.id:
                return params["result"]

    def __iter__(self):
        while True:
            yield self.next()

    def close(self):
        """Unsubscribes and closes the connection."""
        try:
            self._ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": self._unsubscribe, "params": [self.id]}))
        except Exception as e:  # the connection may be gone already; closing is what matters
            if not isinstance(e, (OSError, WaybillError)) and "closed" not in str(e).lower():
                raise
        finally:
            self._ws.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
