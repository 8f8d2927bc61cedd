"""The entity extractor reads names, ranges, selectors and exclusions against the snapshot."""

from __future__ import annotations

from domains.catalog import build_registry
from pipeline.contracts import AssetRef
from pipeline.nlu.inventory import InventoryIndex, edit_distance, signature
from pipeline.nlu.parse import Targets
from pipeline.nlu.recognise import recognise
from pipeline.nlu.scan import scan
from pipeline.nlu.toolwords import ToolWords
from pipeline.nlu.typos import Corrector

WORDS = ToolWords(build_registry())

ASSETS = (
    AssetRef(
        name="app-eu-7",
        address="198.18.0.7",
        type="app_server",
        environment="prod",
        location="new york",
        tags={"team": "payments"},
        services=("tomcat",),
    ),
    AssetRef(
        name="app-eu-8",
        address="198.18.0.8",
        type="app_server",
        environment="prod",
        location="new york",
        tags={"team": "payments"},
        services=("tomcat",),
    ),
    AssetRef(name="db-01", address="198.18.1.1", type="db_server", environment="qa", location="lagos"),
    AssetRef(
        name="dc-01",
        address="198.18.1.2",
        type="domain_controller",
        os="windows",
        environment="qa",
        location="lagos",
    ),
    AssetRef(name="bastion", address="198.18.2.1", type="jump_host", environment="prod", location="lagos"),
)
INDEX = InventoryIndex.build(ASSETS)


def read(text: str, index: InventoryIndex) -> Targets:
    clause = scan(text, WORDS.verbs, Corrector(())).clauses[0]
    return recognise(list(clause), index, WORDS).targets


def targets(text: str) -> Targets:
    return read(text, INDEX)


def test_names_tolerate_case_dashes_padding_and_typos() -> None:
    assert targets("ping APP-EU-7 appeu8").names == ["app-eu-7", "app-eu-8"]
    assert targets("ping db 1").names == ["db-01"]
    assert targets("ping bastoin").names == ["bastion"]


def test_equally_close_typo_is_ambiguous_not_guessed() -> None:
    twins = InventoryIndex.build(
        [AssetRef(name="stack-01", address="198.18.9.1"), AssetRef(name="stick-01", address="198.18.9.2")]
    )
    found = read("ping stuck-01", twins)
    assert found.names == [] and set(found.ambiguous["stuck-01"]) == {"stack-01", "stick-01"}


def test_short_names_take_no_letter_substitution() -> None:
    assert targets("ping dc-01").names == ["dc-01"]
    assert targets("ping dd-01").names == [] and targets("ping dd-01").unknown == ["dd-01"]


def test_unknown_host_shaped_words_are_reported() -> None:
    found = targets("ping app-eu-9 and db-01")
    assert found.unknown == ["app-eu-9"] and found.names == ["db-01"]


def test_ranges() -> None:
    assert targets("ping app-eu-7 through app-eu-8").names == ["app-eu-7", "app-eu-8"]
    assert targets("ping app-eu-7..8").names == ["app-eu-7", "app-eu-8"]
    assert targets("ping app-eu-7..app-eu-8").names == ["app-eu-7", "app-eu-8"]
    assert targets("ping app-eu-7 to app-eu-9").unknown == ["app-eu-9"]
    assert targets("ping app-eu-7 to 8").names == ["app-eu-7", "app-eu-8"]
    nodes = InventoryIndex.build(
        [AssetRef(name=f"fra-k8s-w{n:02d}", address=f"198.18.3.{n}") for n in (1, 2, 3)]
    )
    assert read("ping fra-k8s-w01 thru w03", nodes).names == ["fra-k8s-w01", "fra-k8s-w02", "fra-k8s-w03"]


def test_addresses_map_to_inventory_names_else_stay_raw() -> None:
    found = targets("ping 198.18.1.2 and 10.0.0.1")
    assert found.names == ["dc-01"] and found.raw == ["10.0.0.1"]


def test_selector_vocabulary_comes_from_the_snapshot() -> None:
    sel = targets("ping all production app servers in new york").selector
    assert sel.environments == ["prod"] and sel.locations == ["new york"] and sel.types == ["app_server"]
    assert targets("ping the payments team servers").selector.tags == {"team": "payments"}
    assert targets("ping the windows boxes").selector.os == ["windows"]
    assert targets("ping the tomcat hosts").selector.services == ["tomcat"]


def test_exclusions_take_names_and_selectors() -> None:
    assert targets("ping everything in lagos except bastion").exclude == ["bastion"]
    assert set(targets("ping all qa servers but not the windows ones").exclude) == {"dc-01"}


def test_pronouns_are_flagged() -> None:
    assert targets("restart nginx on them").pronoun
    assert targets("check the same hosts").pronoun


def test_signature_and_distance() -> None:
    assert signature("WEB-01") == signature("web1") == ("web", (1,))
    assert edit_distance("wbe", "web") == 1 and edit_distance("abc", "xyz", 1) > 1


def test_globs_lists_and_location_prefixes() -> None:
    assert targets("ping app-eu-*").names == ["app-eu-7", "app-eu-8"]
    assert targets("ping zz-*").unknown == ["zz-*"]
    assert targets("ping app-eu-7/8").names == ["app-eu-7", "app-eu-8"]
    assert targets("ping db-01 and 1").names == ["db-01"]  # "1" alone is no sibling without a prefix match
    assert targets("ping lag servers").selector.locations == ["lagos"]


def test_bare_adjectives_next_to_names_only_qualify() -> None:
    found = targets("restart tomcat on app-eu-7 in prod")
    assert found.names == ["app-eu-7"] and not found.selector.anchored
    assert targets("ping app-eu-7 and all qa servers").selector.anchored
