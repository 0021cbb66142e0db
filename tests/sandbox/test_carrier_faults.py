"""The sandbox carrier's injected faults (sandbox.carrier.faults), seen from the customer app."""

from __future__ import annotations

import asyncio
import time

import httpx

from sandbox.carrier import CarrierFaults
from tests.sandbox.test_carrier_calls import GRACE, NOAH, CustomerApp, rig
from tests.waiting import wait_until_async


async def held(r, count: int) -> bool:
    """True once the carrier holds ``count`` create requests (the ``hold_creates`` fault)."""
    return (await r.admin("/sandbox/stats"))["creates_held"] == count


async def test_duplicated_and_shuffled_status_callbacks():
    async with rig(faults=CarrierFaults(duplicate_callbacks=True, shuffle_callbacks=True)) as r:
        call = await r.create(NOAH)
        await r.wait_ended(call.sid)
        hooks = [h.params for h in r.customer.hooks_of("status")]
        seqs = [h.get("SequenceNumber") for h in hooks]
        # pairs swapped, each followed by its replay without SequenceNumber
        assert seqs == ["1", None, "0", None, "2", None]
        assert [h["CallStatus"] for h in hooks][::2] == ["ringing", "initiated", "no-answer"]
        stats = await r.admin("/sandbox/stats")
        assert stats["webhook_responses"] == {"200": 6}


async def test_final_status_dropped_but_the_call_resource_knows():
    async with rig(faults=CarrierFaults(drop_final_status=True)) as r:
        call = await r.create(NOAH)

        async def settled() -> bool:
            kinds = [event["kind"] for event in (await r.record(call.sid))["events"]]
            return "webhook_status_dropped" in kinds and kinds.count("webhook_status") == 2

        # The carrier has delivered the two callbacks before the terminal one and recorded the
        # terminal one as dropped: nothing else is coming.
        await wait_until_async(settled, what="the final status callback to be dropped")
        assert r.events_of(call.sid) == ["initiated", "ringing"]
        fetched = await asyncio.to_thread(r.client.calls(call.sid).fetch)
        assert fetched.status == "no-answer"


async def test_amd_delivered_late_and_twice():
    faults = CarrierFaults(amd_delay_ms=400, duplicate_callbacks=True)
    async with rig(CustomerApp(), faults=faults, amd_machine_ms=100) as r:
        started = time.monotonic()
        call = await r.create(
            GRACE,
            machine_detection="Enable",
            async_amd="true",
            async_amd_status_callback=r.customer.url("/twilio/amd"),
        )
        await asyncio.wait_for(r.customer.amd_received.wait(), 20)
        assert time.monotonic() - started >= 0.4
        amd = await wait_until_async(
            lambda: len(r.customer.hooks_of("amd")) == 2 and r.customer.hooks_of("amd"),
            what="the duplicated AMD callback",
        )
        assert [h.params["AnsweredBy"] for h in amd] == ["machine_start", "machine_start"]
        await r.hang_up(call.sid)


async def test_held_create_is_dropped_when_its_client_goes_away():
    async with rig(faults=CarrierFaults(hold_creates="before_create")) as r:
        params = {"To": NOAH, "From": "+15005550006", "Url": r.customer.url("/twilio/voice")}
        url = f"{r.carrier_url}/2010-04-01/Accounts/{r.client.username}/Calls.json"
        async with httpx.AsyncClient(auth=(r.client.username, r.client.password)) as http:
            request = asyncio.create_task(http.post(url, data=params))
            await wait_until_async(lambda: held(r, 1), what="the create to be held")
            request.cancel()  # the client dies with its request in flight

        async def dropped() -> dict | None:
            stats = await r.admin("/sandbox/stats")
            return stats if stats["creates_dropped"] == 1 else None

        stats = await wait_until_async(dropped, what="the held create to be dropped")
        assert stats["calls_created"] == 0 and stats["creates_held"] == 0


async def test_faults_change_at_run_time_and_bad_ones_are_refused():
    async with rig() as r, httpx.AsyncClient(base_url=r.carrier_url) as http:
        assert (await http.get("/sandbox/faults")).json()["hold_creates"] is None
        response = await http.post("/sandbox/faults", json={"hold_creates": "after_create"})
        assert response.json()["hold_creates"] == "after_create"
        call = asyncio.create_task(r.create(NOAH))
        await wait_until_async(lambda: held(r, 1), what="the create to be held")
        assert (await r.admin("/sandbox/stats"))["calls_created"] == 1  # it exists and rings
        await http.post("/sandbox/faults", json={"hold_creates": None})
        assert (await asyncio.wait_for(call, 20)).sid.startswith("CA")
        bad = await http.post("/sandbox/faults", json={"shuffle": True})
        assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]
        bad = await http.post("/sandbox/faults", json={"amd_delay_ms": -1, "drop_final_status": True})
        assert bad.status_code == 400
        assert (await http.get("/sandbox/faults")).json()["drop_final_status"] is False
