"""Asset validation (the selection rule is tested in tests/pipeline/test_selection.py)."""

from __future__ import annotations

import pytest

from domains.assets.directory import validate_asset
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest


def test_validate_asset_normalises_and_refuses() -> None:
    asset = validate_asset(AssetRef(name=" Web-09 ", address=" 127.0.0.9 ", services=("a", "a", " ")))
    assert (asset.name, asset.address, asset.services) == ("web-09", "127.0.0.9", ("a",))
    for bad, problem in [
        (AssetRef(name="bad name", address="127.0.0.1"), "name"),
        (AssetRef(name="ok", address=""), "address missing"),
        (AssetRef(name="ok", address="not an address"), "neither"),
        (AssetRef(name="ok", address="::1", type="web server"), "type"),
        (AssetRef(name="ok", address="::1", tags={"bad key": "x"}), "tag key"),
    ]:
        with pytest.raises(InvalidRequest, match=problem):
            validate_asset(bad)
