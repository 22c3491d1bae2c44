"""Webhooks end to end through real processes: a job's end reaches a receiver process that verifies the Standard
Webhooks signature with the `standardwebhooks` package; retries, a receiver down for the whole window, and a
delivery that survives kill -9 of the server."""
from __future__ import annotations

import signal

from webhook_site import STARTUP, Site, free_port, http, received, wait_until


def finished_job(site: Site) -> str:
    status, job = http("POST", f"{site.base}/v1/generate", {"prompt": "a harbour at dawn", "size": "1024x1024", "quality": "low"})
    assert status == 202, job
    wait_until(lambda: http("GET", f"{site.base}/v1/jobs/{job['id']}")[1]["status"] == "succeeded", STARTUP, "the job")
    return job["id"]


def ended(site: Site, webhook_id: str, status: str) -> dict:
    def check():
        rows = site.deliveries(webhook_id)
        return rows[0] if rows and rows[0]["status"] == status else None
    return wait_until(check, 60, f"a {status} delivery")


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(site: Site) -> None:
    site.start_standin()
    site.serve()
    port = free_port()
    hook = site.register(port, ["job.succeeded", "job.failed"])
    log = site.receiver(port, hook["secret"], fail=2)
    job_id = finished_job(site)

    delivery = ended(site, hook["id"], "delivered")
    assert delivery["attempts"] == 3 and delivery["last_status"] == 204
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 204]
    seen = received(log)
    assert len(seen) == 3
    assert all(r["verified"] for r in seen), seen
    assert {r["id"] for r in seen} == {delivery["message_id"]}
    assert seen[-1]["payload"]["type"] == "job.succeeded"
    assert seen[-1]["payload"]["data"]["job"]["id"] == job_id


def test_a_receiver_down_for_the_whole_window_ends_failed_with_its_attempts_listed(site: Site) -> None:
    site.start_standin()
    # Nothing listens, so each attempt lasts its timeout (the client retries a refused connection until then).
    site.serve(WEBHOOK_MAX_AGE_SECONDS="4", WEBHOOK_TIMEOUT_SECONDS="1")
    port = free_port()
    hook = site.register(port, ["job.succeeded"])  # nothing listens there until the resend below
    finished_job(site)

    delivery = ended(site, hook["id"], "failed")
    assert delivery["attempts"] >= 2 and len(delivery["attempt_log"]) == delivery["attempts"]
    assert all(a["status_code"] is None and a["error"] for a in delivery["attempt_log"]), delivery
    assert delivery["finished_at"] and delivery["next_attempt_at"] is None

    # Re-sent by hand once the receiver is back: delivered, same webhook-id.
    log = site.receiver(port, hook["secret"])
    status, body = http("POST", f"{site.base}/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/resend")
    assert status == 202 and body["status"] == "pending", body
    ended(site, hook["id"], "delivered")
    assert {r["id"] for r in received(log)} == {delivery["message_id"]}


def test_a_queued_delivery_survives_kill_9_and_is_sent_once_after_restart(site: Site) -> None:
    site.start_standin()
    server = site.serve(WEBHOOK_RETRY_BASE_SECONDS="1")
    port = free_port()
    hook = site.register(port, ["job.succeeded"])
    first_job = finished_job(site)
    wait_until(lambda: site.deliveries(hook["id"]), 30, "the queued delivery")
    server.send_signal(signal.SIGKILL)  # with the receiver down: the delivery is pending or mid-attempt
    server.wait()

    log = site.receiver(port, hook["secret"])
    site.serve(WEBHOOK_RETRY_BASE_SECONDS="1")
    first = ended(site, hook["id"], "delivered")
    # A later event arrives after the first one; by then a second copy of the first would have arrived too.
    finished_job(site)
    wait_until(lambda: len(received(log)) >= 2, 60, "the second event")
    seen = received(log)
    assert [r["id"] for r in seen].count(first["message_id"]) == 1, seen
    assert all(r["verified"] for r in seen)
    assert seen[0]["payload"]["data"]["job"]["id"] == first_job
