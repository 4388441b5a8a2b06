"""The domain codes the engine uses are exactly those of the domain reference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.scenario import codes, codes_data

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "domain" / "trafficking-interviews.md"


def _sync_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("sync_codes", ROOT / "tools" / "sync_codes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_codes_match_the_reference() -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"the domain reference is not at {REFERENCE}")
    fresh = _sync_module().extract(REFERENCE.read_text(encoding="utf-8"))
    assert fresh["rubric"].keys() == codes_data.RUBRIC.keys()
    assert fresh["indicators"] == codes_data.INDICATORS
    assert fresh["critical"] == codes_data.CRITICAL
    assert fresh["strengths"] == codes_data.STRENGTHS


def test_the_vocabulary_is_complete() -> None:
    assert len(codes.CRITICAL_CODES) == 10
    assert set(codes.CRITICAL_DIMENSION) == set(codes.CRITICAL_CODES)
    assert sum(codes.DEFAULT_WEIGHTS.values()) == 100
    assert {c[0] for c in codes.RUBRIC_CODES} == set(codes.DIMENSION_CODES)
    assert {
        "IND.DOC_RETAINED",
        "LR.FREE_TO_LEAVE",
        "NEG.OWN_FUNDS",
        "IND.AVD_NO_NETWORK",
    } <= codes.INDICATOR_CODES
    assert codes.is_strong_indicator("IND.DOC_RETAINED") and not codes.is_strong_indicator(
        "IND.BRD_MEETER"
    )
    assert codes.is_counter_indicator("NEG.OWN_FUNDS") and not codes.is_counter_indicator(
        "IND.THREATS"
    )
    assert codes.dimension_of("S+PRIVATE") == "S"
    with pytest.raises(ValueError):
        codes.dimension_of("X+NOPE")
