"""Values every environment shares. Environment files state only their differences."""

from typing import Any

BASE: dict[str, Any] = {
    "project": "fargate",
    "state": {
        # Created by the `state-bootstrap` stack; bucket names are global, so pick your own.
        "bucket": "fargate-platform-tfstate-example",
        "key_prefix": "",
        "region": "ap-northeast-1",
    },
    "tags": {"CostCenter": "platform"},
}
