"""The agent's tools: what the agent is told is what the dispatcher accepts (one source, the models)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.tools import TOOL_ARGS, TOOL_SPECS, LogDispositionArgs
from dialer.models import AGENT_SETTABLE_DISPOSITIONS, DispositionName


def test_every_tool_schema_is_its_models_schema():
    assert [spec.name for spec in TOOL_SPECS] == [
        "book_meeting",
        "honor_dnc",
        "log_disposition",
        "mark_callback",
        "end_call",
    ]
    for spec in TOOL_SPECS:
        model = TOOL_ARGS[spec.name]
        fields = model.model_fields
        assert spec.parameters["type"] == "object"
        assert set(spec.parameters["properties"]) == set(fields)
        assert set(spec.parameters["required"]) == {n for n, f in fields.items() if f.is_required()}
        assert spec.description and all(p.get("description") for p in spec.parameters["properties"].values())
        assert "title" not in spec.parameters and "$defs" not in spec.parameters  # plain, inline schema


def test_dispositions_offered_are_the_settable_ones_and_nothing_else_is_accepted():
    (spec,) = [s for s in TOOL_SPECS if s.name == "log_disposition"]
    offered = spec.parameters["properties"]["disposition"]["enum"]
    assert set(offered) == {str(d) for d in AGENT_SETTABLE_DISPOSITIONS}
    for name in offered:
        assert LogDispositionArgs.model_validate({"disposition": name}).disposition == name
    unsettable = sorted(set(DispositionName) - AGENT_SETTABLE_DISPOSITIONS)
    assert unsettable  # the system keeps some dispositions to itself (e.g. voicemail, no_answer)
    for name in unsettable:
        with pytest.raises(ValidationError, match="must be one of"):
            LogDispositionArgs.model_validate({"disposition": str(name)})
