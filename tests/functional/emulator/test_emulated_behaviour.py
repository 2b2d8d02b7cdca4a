"""The settings that govern the emulator's realism: defaults, moto's behaviour, scoping, clocks."""

from __future__ import annotations

import dataclasses
import time

import pytest

from reconciler.emulator import Behaviour, behaviour, configure, current, settings
from reconciler.emulator.settings import Pending


def test_everything_is_on_by_default() -> None:
    on = Behaviour()
    assert on.lambda_update_reads >= 1
    assert on.provisioning_reads >= 1
    assert on.rds_modify_reads >= 1
    assert on.dynamodb_update_reads >= 1
    assert on.dynamodb_ttl_reads >= 1
    assert on.dynamodb_ttl_interval_seconds == 3600
    assert on.rds_instance_modify_reads >= 1
    assert on.lambda_account_concurrency == 1000
    for switch in (
        "lambda_environment_rules",
        "weighted_alias_rule",
        "cloudwatch_missing_alarm_error",
        "cloudwatch_alarm_rules",
        "rds_capacity_rules",
        "rds_pending_modifications",
        "budgets_rules",
        "dynamodb_ttl_rules",
        "dynamodb_billing_rules",
        "credentials_expire",
    ):
        assert getattr(on, switch) is True, switch
    # Switches a test turns on, because the emulator cannot know (IAM) or fixtures would break.
    assert on.lambda_tags_denied is False
    assert on.lambda_create_reads == 0


def test_moto_turns_every_rule_and_delay_off() -> None:
    off = Behaviour.moto()
    for field in dataclasses.fields(off):
        value = getattr(off, field.name)
        assert value in (False, 0, None, ()), field.name  # () : no failing images


def test_behaviour_scopes_changes_and_restores_them() -> None:
    before = current()
    with behaviour(lambda_update_reads=5) as inside:
        assert current() is inside
        assert inside.lambda_update_reads == 5
        assert inside.rds_modify_reads == before.rds_modify_reads
        with pytest.raises(RuntimeError), behaviour(rds_modify_reads=9):
            raise RuntimeError
        assert current() is inside
    assert current() is before


def test_behaviour_can_start_from_moto() -> None:
    with behaviour(Behaviour.moto(), budgets_rules=True) as chosen:
        assert chosen.budgets_rules is True
        assert chosen.cloudwatch_alarm_rules is False


def test_configure_returns_what_it_replaces() -> None:
    old = configure(Behaviour.moto())
    try:
        assert current() == Behaviour.moto()
    finally:
        assert configure(old) == Behaviour.moto()


def test_environment_variable_starts_a_process_with_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_EMULATOR", "moto")
    assert settings._initial() == Behaviour.moto()
    monkeypatch.delenv("RECONCILER_EMULATOR")
    assert settings._initial() == Behaviour()


def test_pending_is_seen_for_its_reads_then_done() -> None:
    pending = Pending(2)
    assert [pending.look() for _ in range(4)] == [True, True, False, False]
    assert pending.done
    assert Pending.start(0) is None


def test_pending_seconds_end_a_change_early() -> None:
    pending = Pending(1000, seconds=0.01)
    assert pending.look()
    time.sleep(0.02)
    assert not pending.look()
    with behaviour(pending_seconds=0.01):
        started = Pending.start(1000)
    assert started is not None
    time.sleep(0.02)
    assert started.done
