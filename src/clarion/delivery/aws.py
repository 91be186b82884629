"""What the SES and End User Messaging adapters share: a botocore client called from worker
threads, one attempt per call, and the reading of AWS errors as outcomes.

Credentials come from botocore's usual chain (environment, shared files, instance role).
Throttling, 429 and 5xx answers are TRANSIENT, and so are the errors about this AWS account
rather than the recipient (sending paused, quotas, expired or missing credentials), so that
they never read as a hard bounce; any other 4xx is PERMANENT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from botocore.session import get_session

from clarion.delivery.base import Outcome, Result

_ACCOUNT_ERRORS = frozenset(
    {
        "AccountSuspendedException",
        "ExpiredToken",
        "ExpiredTokenException",
        "LimitExceededException",
        "RequestExpired",
        "SendingPausedException",
        "ServiceQuotaExceededException",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


class AwsClient:
    def __init__(
        self,
        service: str,
        region: str,
        endpoint_url: str,
        *,
        max_connections: int,
        timeout: float,
    ) -> None:
        self.client: Any = get_session().create_client(
            service,
            region_name=region,
            endpoint_url=endpoint_url or None,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                max_pool_connections=max_connections,
                retries={"total_max_attempts": 1},
            ),
        )
        self._threads = ThreadPoolExecutor(max_connections, thread_name_prefix=service)

    async def call(
        self,
        operation: str,
        request: dict[str, Any],
        opted_out: Callable[[ClientError], bool] = lambda error: False,
    ) -> Result:
        """One request; DELIVERED with the answer's MessageId, or the failure as an outcome."""
        method = getattr(self.client, operation)
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self._threads, partial(method, **request))
        except ClientError as error:
            return _failure(error, opted_out(error))
        except ParamValidationError as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        except BotoCoreError as error:
            return Result(Outcome.TRANSIENT, 0, f"{type(error).__name__}: {error}")
        status = answer["ResponseMetadata"]["HTTPStatusCode"]
        return Result(Outcome.DELIVERED, status, "accepted", answer["MessageId"])

    async def close(self) -> None:
        """Waits for calls in flight, then closes the client's connections."""
        await asyncio.to_thread(self._threads.shutdown)
        self.client.close()


def _failure(error: ClientError, opted_out: bool) -> Result:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    code = error.response.get("Error", {}).get("Code", "")
    detail = f"{code}: {error.response.get('Error', {}).get('Message', '')}"
    if opted_out:
        return Result(Outcome.OPT_OUT, status, detail)
    if status == 429 or status >= 500 or code in _ACCOUNT_ERRORS:
        return Result(Outcome.TRANSIENT, status, detail)
    return Result(Outcome.PERMANENT, status, detail)
