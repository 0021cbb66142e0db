"""The sandbox carrier's injected faults (sandbox.carrier.faults), seen from the customer app."""

from __future__ import annotations

import asyncio
import time

import httpx

from sandbox.carrier import CarrierFaults
from tests.sandbox.test_carrier_calls import GRACE, NOAH, CustomerApp, rig


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
        deadline = time.monotonic() + 10
        while (await r.record(call.sid))["ended_at"] is None:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
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
        await asyncio.wait_for(r.customer.amd_received.wait(), 5)
        assert time.monotonic() - started >= 0.4
        await asyncio.sleep(0.3)
        amd = r.customer.hooks_of("amd")
        assert [h.params["AnsweredBy"] for h in amd] == ["machine_start", "machine_start"]
        await r.hang_up(call.sid)


async def test_held_create_is_dropped_when_its_client_goes_away():
    async with rig(faults=CarrierFaults(hold_creates="before_create")) as r:
        params = {"To": NOAH, "From": "+15005550006", "Url": r.customer.url("/twilio/voice")}
        url = f"{r.carrier_url}/2010-04-01/Accounts/{r.client.username}/Calls.json"
        async with httpx.AsyncClient(auth=(r.client.username, r.client.password)) as http:
            request = asyncio.create_task(http.post(url, data=params))
            deadline = time.monotonic() + 5
            while (await r.admin("/sandbox/stats"))["creates_held"] != 1:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            request.cancel()  # the client dies with its request in flight
        deadline = time.monotonic() + 5
        while (stats := await r.admin("/sandbox/stats"))["creates_dropped"] != 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert stats["calls_created"] == 0 and stats["creates_held"] == 0


async def test_faults_change_at_run_time_and_bad_ones_are_refused():
    async with rig() as r, httpx.AsyncClient(base_url=r.carrier_url) as http:
        assert (await http.get("/sandbox/faults")).json()["hold_creates"] is None
        response = await http.post("/sandbox/faults", json={"hold_creates": "after_create"})
        assert response.json()["hold_creates"] == "after_create"
        call = asyncio.create_task(r.create(NOAH))
        deadline = time.monotonic() + 5
        while (await r.admin("/sandbox/stats"))["creates_held"] != 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert (await r.admin("/sandbox/stats"))["calls_created"] == 1  # it exists and rings
        await http.post("/sandbox/faults", json={"hold_creates": None})
        assert (await asyncio.wait_for(call, 5)).sid.startswith("CA")
        bad = await http.post("/sandbox/faults", json={"shuffle": True})
        assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]
        bad = await http.post("/sandbox/faults", json={"amd_delay_ms": -1, "drop_final_status": True})
        assert bad.status_code == 400
        assert (await http.get("/sandbox/faults")).json()["drop_final_status"] is False
