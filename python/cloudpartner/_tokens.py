"""What a Client takes as a token source: typing Protocols that azure-identity's credentials fit.

Only type checkers and ``isinstance``-free duck typing use them, so they live apart from the
Client: importing ``typing`` costs a few milliseconds that a call need not pay.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["AccessToken", "AsyncTokenCredential", "TokenCredential"]


class AccessToken(Protocol):
    """What a credential's ``get_token`` returns (azure-core's ``AccessToken`` fits).

    ``get_token_info``'s ``AccessTokenInfo`` fits too; its ``refresh_on``, when set, is when the
    token is fetched again.
    """

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class TokenCredential(Protocol):
    """A synchronous credential, such as any ``azure.identity`` credential.

    When it also has ``get_token_info(*scopes)`` (azure-identity 1.18+), that is asked instead.
    """

    def get_token(self, *scopes: str) -> AccessToken: ...


class AsyncTokenCredential(Protocol):
    """An asyncio credential, such as any ``azure.identity.aio`` credential.

    Its coroutine runs on the caller's event loop; only the ``*_async`` calls can use it.
    """

    async def get_token(self, *scopes: str) -> AccessToken: ...
