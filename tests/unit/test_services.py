"""The watchable services and how a list of them is read (contract section 12)."""

import pytest

from supportwatch.config import ConfigError, Settings
from supportwatch.services import SERVICES, call_key, extended, parse_services


def test_a_list_is_read_in_the_catalogue_order_whatever_its_spelling() -> None:
    assert parse_services("bedrock, Support,q,q") == ("support", "q", "bedrock")
    assert parse_services("") == parse_services(" , ") == ("support",)


def test_an_unknown_service_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown service kendra; known: support, q, bedrock"):
        parse_services("support,kendra")
    with pytest.raises(ConfigError, match="WATCHED_SERVICES: unknown service"):
        Settings.from_env({"TABLE_NAME": "t", "TOPIC_ARN": "a", "WATCHED_SERVICES": "kendra"})


def test_only_more_than_support_extends_the_outputs() -> None:
    assert not extended(("support",))
    assert extended(("support", "q")) and extended(("bedrock",))


def test_calls_are_keyed_by_name_for_support_and_by_service_and_name_for_the_others() -> None:
    assert call_key("support", "StartSupportTroubleshooting") == "StartSupportTroubleshooting"
    assert call_key("q", "SendMessage") == "q:SendMessage"


def test_bedrock_counts_inference_only() -> None:
    bedrock = SERVICES["bedrock"]
    assert bedrock.counts_name("Converse") and bedrock.counts_name("InvokeModelWithResponseStream")
    assert not bedrock.counts_name("ListFoundationModels") and not bedrock.counts_name("CreateModelCustomizationJob")
    assert SERVICES["q"].counts_name("AnyNewName")
