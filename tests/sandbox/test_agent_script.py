import pytest

from sandbox.agent.script import (
    ASK_CALLBACK_TIME,
    ASK_EMAIL,
    ASK_TIME,
    CALLBACK_REFUSED,
    DIDNT_CATCH,
    DNC_GOODBYE,
    PITCH,
    FunctionCall,
    Heard,
    Intent,
    Plan,
    ScriptState,
    ToolResult,
    ToolResults,
    classify,
    find_email,
    find_time,
    respond,
    verbatim_line,
)

ALL_TOOLS = frozenset({"book_meeting", "honor_dnc", "log_disposition", "mark_callback", "end_call"})


def ok(name: str) -> ToolResults:
    return ToolResults((ToolResult(name, ok=True),))


def failed(name: str, error: str) -> ToolResults:
    return ToolResults((ToolResult(name, ok=False, error=error),))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Please stop calling me.", Intent.DNC),
        ("Take me off your list", Intent.DNC),
        ("STOP", Intent.DNC),
        ("Don’t call again, not interested", Intent.DNC),
        ("Stop. Wrong number.", Intent.WRONG_PERSON),
        ("There's no one by that name here", Intent.WRONG_PERSON),
        ("No thank you.", Intent.NOT_INTERESTED),
        ("Not now, I'm driving", Intent.NOT_NOW),
        ("Call me back tomorrow at 10am", Intent.CALLBACK),
        ("Try another time", Intent.CALLBACK),
        ("jane.doe@acme.io", Intent.EMAIL),
        ("Sure, Tuesday at 2pm works", Intent.TIME),
        ("Yes, go ahead", Intent.POSITIVE),
        ("Let's hear it", Intent.POSITIVE),
        ("Who is this?", Intent.UNCLEAR),
        ("Yesterday was busy", Intent.UNCLEAR),
        ("", Intent.UNCLEAR),
    ],
)
def test_classification_table(text, intent):
    assert classify(text) is intent


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("Tuesday at 2pm works", "Tuesday at 2pm"),
        ("how about tomorrow at 10am?", "tomorrow at 10am"),
        ("Wednesday 2:30 pm", "Wednesday 2:30 pm"),
        ("next Friday morning at 9 a.m.", "next Friday morning at 9 a.m."),
        ("sometime next week", None),
        ("at 2pm", None),
    ],
)
def test_find_time_keeps_the_prospects_words(text, time):
    assert find_time(text) == time


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("It's jane.doe@acme.io.", "jane.doe@acme.io"),
        ("jane at acme dot com", "jane@acme.com"),
        ("my email is Jane dot Doe at Acme dot co dot uk", "jane.doe@acme.co.uk"),
        ("Tuesday at 2pm", None),
    ],
)
def test_find_email_written_and_spoken(text, email):
    assert find_email(text) == email


def test_verbatim_line_takes_the_last_quoted_text_across_lines():
    instructions = 'Ignore: Say exactly: "old"\nStart now. Say exactly: "Hi Jane,\nthis is Sam from Acme."'
    assert verbatim_line(instructions) == "Hi Jane,\nthis is Sam from Acme."
    assert verbatim_line("Greet the callee warmly.") is None
    assert verbatim_line(None) is None


def test_positive_gets_the_pitch():
    state, plan = respond(ScriptState(), Heard("Sure, I have a minute."), ALL_TOOLS)
    assert plan == Plan(PITCH)
    assert state == ScriptState()


def test_dnc_calls_only_honor_dnc_then_says_goodbye_without_tools():
    state, plan = respond(ScriptState(), Heard("Please take me off your list."), ALL_TOOLS)
    assert plan == Plan(calls=(FunctionCall("honor_dnc", {"reason": "Please take me off your list."}),))
    state, plan = respond(state, ok("honor_dnc"), ALL_TOOLS)
    assert plan == Plan(DNC_GOODBYE)
    assert state.ended
    assert respond(state, Heard("hello?"), ALL_TOOLS)[1] == Plan()


@pytest.mark.parametrize(
    ("text", "disposition", "goodbye"),
    [
        ("Wrong number.", "wrong_person", "Sorry for the trouble. Goodbye."),
        ("No thanks.", "not_interested", "No problem at all. Thanks for your time. Goodbye."),
        ("It's a bad time.", "not_now", "I understand. Thanks, and have a good day. Goodbye."),
    ],
)
def test_closings_log_then_say_goodbye_and_end(text, disposition, goodbye):
    state, plan = respond(ScriptState(), Heard(text), ALL_TOOLS)
    assert plan == Plan(calls=(FunctionCall("log_disposition", {"disposition": disposition}),))
    state, plan = respond(state, ok("log_disposition"), ALL_TOOLS)
    assert plan == Plan(goodbye, calls=(FunctionCall("end_call", {"reason": disposition}),))
    assert state.ended


def test_booking_time_then_email():
    state, plan = respond(ScriptState(), Heard("Tuesday at 2pm works."), ALL_TOOLS)
    assert plan == Plan(ASK_EMAIL)
    state, plan = respond(state, Heard("jane at acme dot com"), ALL_TOOLS)
    args = {"preferred_time": "Tuesday at 2pm", "email": "jane@acme.com"}
    assert plan == Plan(calls=(FunctionCall("book_meeting", args),))
    state, plan = respond(state, ok("book_meeting"), ALL_TOOLS)
    assert plan.speech == "You're all set. I've sent an invite to jane@acme.com. Thanks, and goodbye."
    assert [call.name for call in plan.calls] == ["log_disposition", "end_call"]
    assert plan.calls[0].arguments == {"disposition": "booked"}


def test_booking_failure_forgets_the_time_and_keeps_the_email():
    state = ScriptState(preferred_time="Tuesday at 2pm")
    state, _ = respond(state, Heard("jane@acme.com"), ALL_TOOLS)
    state, plan = respond(state, failed("book_meeting", "that slot is taken."), ALL_TOOLS)
    assert plan == Plan("Sorry, that slot is taken. What other time works for you?")
    assert state.preferred_time is None and state.email == "jane@acme.com"
    _, plan = respond(state, Heard("Wednesday at 10am then"), ALL_TOOLS)
    args = {"preferred_time": "Wednesday at 10am", "email": "jane@acme.com"}
    assert plan == Plan(calls=(FunctionCall("book_meeting", args),))


def test_email_before_any_time_asks_for_a_time():
    assert respond(ScriptState(), Heard("jane@acme.com"), ALL_TOOLS)[1] == Plan(ASK_TIME)


def test_callback_with_time_then_refused_then_accepted():
    state, plan = respond(ScriptState(), Heard("Call me back tomorrow at 10am"), ALL_TOOLS)
    assert plan == Plan(calls=(FunctionCall("mark_callback", {"preferred_time": "tomorrow at 10am"}),))
    state, plan = respond(state, failed("mark_callback", "outside calling hours"), ALL_TOOLS)
    assert plan == Plan(CALLBACK_REFUSED)
    state, plan = respond(state, Heard("Thursday at 3pm"), ALL_TOOLS)
    assert plan == Plan(calls=(FunctionCall("mark_callback", {"preferred_time": "Thursday at 3pm"}),))
    state, plan = respond(state, ok("mark_callback"), ALL_TOOLS)
    assert plan.speech == "Sure, I'll call you back then. Goodbye."
    assert [(c.name, c.arguments) for c in plan.calls] == [
        ("log_disposition", {"disposition": "callback"}),
        ("end_call", {"reason": "callback"}),
    ]


def test_callback_without_time_asks_when():
    state, plan = respond(ScriptState(), Heard("Can you call back later?"), ALL_TOOLS)
    assert plan == Plan(ASK_CALLBACK_TIME)
    _, plan = respond(state, Heard("Friday at 9am"), ALL_TOOLS)
    assert plan.calls[0].name == "mark_callback"


def test_third_miss_in_a_row_closes_as_not_now():
    state = ScriptState()
    for _ in range(2):
        state, plan = respond(state, Heard("mmm"), ALL_TOOLS)
        assert plan == Plan(DIDNT_CATCH)
    state, plan = respond(state, Heard("what"), ALL_TOOLS)
    assert plan == Plan(calls=(FunctionCall("log_disposition", {"disposition": "not_now"}),))
    _, plan = respond(state, ok("log_disposition"), ALL_TOOLS)
    assert plan.speech.endswith("Goodbye.") and plan.calls[0].name == "end_call"


def test_an_understood_turn_resets_the_misses():
    state, _ = respond(ScriptState(), Heard("mmm"), ALL_TOOLS)
    state, _ = respond(state, Heard("mmm"), ALL_TOOLS)
    state, _ = respond(state, Heard("yes"), ALL_TOOLS)
    assert respond(state, Heard("mmm"), ALL_TOOLS)[1] == Plan(DIDNT_CATCH)


def test_undeclared_tools_are_never_called_and_the_step_carries_on():
    state, plan = respond(ScriptState(), Heard("Not interested."), frozenset({"end_call"}))
    assert plan == Plan(
        "No problem at all. Thanks for your time. Goodbye.",
        calls=(FunctionCall("end_call", {"reason": "not_interested"}),),
    )
    assert state.ended
    assert respond(ScriptState(), Heard("stop calling"), frozenset())[1] == Plan(DNC_GOODBYE)


def test_tool_output_parsing():
    assert ToolResult.from_output("x", '{"ok": true, "meeting": {}}') == ToolResult("x", ok=True)
    assert ToolResult.from_output("x", '{"ok": false, "error": "busy"}') == ToolResult(
        "x", ok=False, error="busy"
    )
    assert not ToolResult.from_output("x", "not json").ok
    assert not ToolResult.from_output("x", "[1]").ok
