import Fluent
import SQLKit

/// PostgreSQL only: `atelier_admit_job`, a new job's whole admission as one statement (one round trip in
/// autocommit, its own transaction; see `Jobs/PostgresAdmission`). SQLite skips it (its admissions share a group
/// commit instead). The function writes what `JobLifecycle.enqueue` writes, in the same order: the images-per-minute
/// hit, the job row, `job.queued`, the ledger row, the hold on the three spend periods, and for the fast path the
/// owner count, kill switch, the upstream gate's take on the one usable key and the claim with `job.running`.
/// A refusal raises (SQLSTATE `AT001` rate limit, `AT002` spend cap), so the statement writes nothing; the caller
/// turns it into today's 429. When the gate needs more than one existing lane's take (several usable keys, no lane
/// yet, no room: reads, inserts and pauses) it raises `AT003` and the caller admits the job in a transaction as
/// before. `outcome` is `queued` (the other instances' workers told by `p_work_message`, as `announceWork` would
/// after the commit) or `started` (with `upstream_key` and the stored pacing limits).
struct CreateAdmitJobFunction: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await runOnPostgreSQLOnly(Self.function, on: database)
    }

    func revert(on database: any Database) async throws {
        try await runOnPostgreSQLOnly("DROP FUNCTION IF EXISTS atelier_admit_job", on: database)
    }

    static let function = """
        CREATE OR REPLACE FUNCTION atelier_admit_job(
            p_id uuid, p_owner text, p_kind text, p_prompt text, p_model text, p_params jsonb, p_options jsonb,
            p_estimated bigint, p_max_attempts bigint, p_run_after double precision, p_idempotency_key text,
            p_request_hash text, p_created_at double precision, p_compat_caller boolean,
            p_rate_subjects text[], p_rate_cost bigint, p_rate_window bigint, p_rate_limit bigint,
            p_event_id uuid, p_event_payload text, p_event_at double precision, p_channel text, p_message text, p_work_message text,
            p_day text, p_month text, p_amount bigint, p_cap_day bigint, p_cap_month bigint, p_cap_global bigint,
            p_hold_subjects text[], p_hold_periods text[], p_hold_caps bigint[], p_now double precision,
            p_worker text, p_lease_expires double precision, p_per_owner_limit bigint, p_kill_switch text,
            p_running_id uuid, p_running_payload text, p_running_message text,
            p_gate_keys text[], p_gate_fingerprints text[], p_rule_keys text[], p_rule_models text[],
            p_rule_images bigint[], p_rule_requests bigint[], p_window double precision, p_images bigint,
            OUT outcome text, OUT upstream_key text, OUT stored_rules text)
        LANGUAGE plpgsql AS $$
        DECLARE
            highest bigint;
            refused bigint;
            active text[];
            cap_images double precision;
            cap_requests double precision;
            need double precision;
        BEGIN
            outcome := 'queued';
            IF cardinality(p_rate_subjects) > 0 THEN
                WITH counted AS (
                    INSERT INTO rate_counters (subject, window_start, hits)
                    SELECT DISTINCT s, p_rate_window, p_rate_cost FROM unnest(p_rate_subjects) AS s
                    ON CONFLICT (subject, window_start) DO UPDATE SET hits = rate_counters.hits + excluded.hits
                    RETURNING hits)
                SELECT max(hits) INTO highest FROM counted;
                IF highest > p_rate_limit THEN
                    RAISE EXCEPTION USING ERRCODE = 'AT001', MESSAGE = highest::text;
                END IF;
            END IF;
            INSERT INTO jobs (id, owner, kind, status, prompt, model, params, options, estimated_cost_nano, attempts,
                max_attempts, run_after, cancel_requested, seq, favorite, idempotency_key, request_hash, created_at, compat_caller)
            VALUES (p_id, p_owner, p_kind, 'queued', p_prompt, p_model, p_params, p_options, p_estimated, 0,
                p_max_attempts, p_run_after, false, 1, false, p_idempotency_key, p_request_hash, p_created_at, p_compat_caller);
            INSERT INTO job_events (id, job_id, owner, seq, type, payload, created_at)
            VALUES (p_event_id, p_id, p_owner, 1, 'job.queued', p_event_payload, p_event_at);
            IF p_channel IS NOT NULL THEN PERFORM pg_notify(p_channel, p_message); END IF;
            INSERT INTO spend_ledger (job_id, owner, day, month, reserved_nano, settled_nano, state, updated_at,
                charged_nano, cap_day_nano, cap_month_nano, cap_global_nano)
            VALUES (p_id, p_owner, p_day, p_month, p_amount, NULL, 'reserved', p_now, 0, p_cap_day, p_cap_month, p_cap_global);
            WITH held AS (
                INSERT INTO spend_periods (subject, period, amount_nano)
                SELECT s, p, p_amount FROM unnest(p_hold_subjects, p_hold_periods) AS h(s, p)
                ON CONFLICT (subject, period) DO UPDATE SET amount_nano = spend_periods.amount_nano + excluded.amount_nano
                WHERE EXISTS (SELECT 1 FROM unnest(p_hold_subjects, p_hold_periods, p_hold_caps) AS c(s, p, cap)
                    WHERE c.s = spend_periods.subject AND c.p = spend_periods.period
                        AND (c.cap < 0 OR spend_periods.amount_nano + p_amount <= c.cap))
                RETURNING subject, period)
            SELECT min(c.i) INTO refused FROM unnest(p_hold_subjects, p_hold_periods, p_hold_caps) WITH ORDINALITY AS c(s, p, cap, i)
            WHERE c.cap >= 0 AND (p_amount > c.cap OR NOT EXISTS (SELECT 1 FROM held WHERE held.subject = c.s AND held.period = c.p));
            IF refused IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'AT002', MESSAGE = refused::text;
            END IF;
            IF p_worker IS NULL
                OR (SELECT count(*) FROM jobs WHERE owner = p_owner AND status = 'running' AND lease_expires IS NOT NULL) >= p_per_owner_limit
                OR EXISTS (SELECT 1 FROM app_settings WHERE name = p_kill_switch AND value = 'true') THEN
                IF p_channel IS NOT NULL THEN PERFORM pg_notify(p_channel, p_work_message); END IF;
                RETURN;
            END IF;
            IF p_gate_keys IS NOT NULL THEN
                active := ARRAY(SELECT g.k FROM unnest(p_gate_keys, p_gate_fingerprints) WITH ORDINALITY AS g(k, f, i)
                    WHERE NOT EXISTS (SELECT 1 FROM upstream_keys u WHERE u.label = g.k AND u.status <> 'active'
                        AND (u.fingerprint IS NULL OR u.fingerprint = nullif(g.f, '')))
                    ORDER BY g.i);
                IF cardinality(active) = 0 THEN
                    IF p_channel IS NOT NULL THEN PERFORM pg_notify(p_channel, p_work_message); END IF;
                    RETURN;
                END IF;
                IF cardinality(active) > 1 THEN RAISE EXCEPTION USING ERRCODE = 'AT003', MESSAGE = 'gate'; END IF;
                upstream_key := active[1];
                -- The limits for this key and model as `AtelierConfig.Upstream.limits` resolves them: key and model,
                -- key and any model, any key and model, any; at each, stored limits first, then the environment's.
                SELECT (array_agg(r.images ORDER BY r.spec, r.ord) FILTER (WHERE r.images >= 0))[1],
                    (array_agg(r.requests ORDER BY r.spec, r.ord) FILTER (WHERE r.requests >= 0))[1]
                INTO cap_images, cap_requests
                FROM (SELECT CASE WHEN a.k = upstream_key AND a.m = p_model THEN 0 WHEN a.k = upstream_key AND a.m = '*' THEN 1
                            WHEN a.k IS NULL AND a.m = p_model THEN 2 WHEN a.k IS NULL AND a.m = '*' THEN 3 END AS spec,
                        a.ord, a.images, a.requests
                    FROM (SELECT nullif(l.key_label, '*') AS k, l.model AS m, coalesce(l.images_per_window, -1)::bigint AS images,
                            coalesce(l.requests_per_window, -1)::bigint AS requests,
                            row_number() OVER (ORDER BY l.key_label, l.model) AS ord
                        FROM upstream_limits l
                        UNION ALL
                        SELECT nullif(e.k, ''), e.m, e.images, e.requests, 1000000 + e.o
                        FROM unnest(p_rule_keys, p_rule_models, p_rule_images, p_rule_requests) WITH ORDINALITY AS e(k, m, images, requests, o)
                    ) a) r
                WHERE r.spec IS NOT NULL;
                cap_images := coalesce(cap_images, 1e12);
                cap_requests := coalesce(cap_requests, 1e12);
                need := least(p_images::double precision, cap_images);
                UPDATE upstream_lanes SET
                    image_tokens = least(cap_images, image_tokens + (p_now - refilled_at) * (cap_images / p_window)) - need,
                    request_tokens = least(cap_requests, request_tokens + (p_now - refilled_at) * (cap_requests / p_window)) - 1,
                    refilled_at = p_now, pause_reason = NULL
                WHERE key_label = upstream_key AND model = p_model AND paused_until <= p_now
                    AND least(cap_images, image_tokens + (p_now - refilled_at) * (cap_images / p_window)) >= need
                    AND least(cap_requests, request_tokens + (p_now - refilled_at) * (cap_requests / p_window)) >= 1;
                IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'AT003', MESSAGE = 'gate'; END IF;
                SELECT json_agg(json_build_array(l.key_label, l.model, l.images_per_window, l.requests_per_window)
                    ORDER BY l.key_label, l.model)::text
                INTO stored_rules FROM upstream_limits l;
            END IF;
            UPDATE jobs SET status = 'running', lease_owner = p_worker, lease_expires = p_lease_expires,
                attempts = attempts + 1, started_at = p_now, seq = seq + 1
            WHERE id = p_id AND status = 'queued';
            INSERT INTO job_events (id, job_id, owner, seq, type, payload, created_at)
            VALUES (p_running_id, p_id, p_owner, 2, 'job.running', p_running_payload, p_event_at);
            IF p_channel IS NOT NULL THEN PERFORM pg_notify(p_channel, p_running_message); END IF;
            outcome := 'started';
        END
        $$
        """
}
