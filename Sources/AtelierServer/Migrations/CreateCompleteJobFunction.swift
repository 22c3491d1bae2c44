import Fluent
import SQLKit

/// PostgreSQL only: `atelier_complete_job`, a job's success as one statement (one round trip in autocommit, its own
/// transaction; see `Jobs/PostgresCompletion`). SQLite skips it (its completions share a group commit instead). The
/// function writes what `JobLifecycle.succeed` writes: the succeeded row (only while `p_worker` holds the lease),
/// the output image rows, the settlement of the reservation (`spend_ledger`, the three `spend_periods`, an overrun
/// row per cap the exact cost passed), the events (`job.storage_failed` when the image was not stored, then
/// `job.succeeded`) with their NOTIFY, and the webhook deliveries. Swift renders every value first from the row it
/// holds, so nothing is read back; the row's `seq` and `favorite` are checked instead (the only columns a running
/// job's payload shows that can change under its worker: a partial image's event, the user's star).
/// `outcome` is `lost` (the lease is gone: nothing written, as today), or `succeeded` (with the overruns). It raises
/// `AT003` (nothing written; the caller commits on the transactional path) when `seq` or `favorite` differ, and
/// `AT004` when an endpoint subscribes to the event and `p_webhook_body` was not given (the caller renders it and
/// calls again: a completion with no webhooks never encodes their body).
struct CreateCompleteJobFunction: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await runOnPostgreSQLOnly(Self.function, on: database)
    }

    func revert(on database: any Database) async throws {
        try await runOnPostgreSQLOnly("DROP FUNCTION IF EXISTS atelier_complete_job", on: database)
    }

    static let function = """
        CREATE OR REPLACE FUNCTION atelier_complete_job(
            p_id uuid, p_worker text, p_seq bigint, p_favorite boolean, p_steps bigint, p_now double precision,
            p_request_id text, p_cost bigint, p_error_code text, p_error_message text, p_error_retryable boolean,
            p_upstream_key text, p_result jsonb, p_usage jsonb,
            p_image_ids uuid[], p_image_owners text[], p_image_roles text[], p_image_indexes bigint[], p_image_blobs text[],
            p_image_thumbnails text[], p_image_formats text[], p_image_widths bigint[], p_image_heights bigint[],
            p_image_bytes bigint[], p_image_created double precision[],
            p_event_ids uuid[], p_event_seqs bigint[], p_event_types text[], p_event_payloads text[], p_event_created double precision[],
            p_channel text, p_messages text[], p_webhook_type text, p_webhook_body text, p_webhook_at double precision,
            OUT outcome text, OUT overrun_subjects text[], OUT overrun_periods text[], OUT overrun_caps bigint[],
            OUT overrun_amounts bigint[], OUT overrun_labels text[])
        LANGUAGE plpgsql AS $$
        DECLARE
            v_seq bigint;
            v_favorite boolean;
            v_owner text;
            l record;
            t record;
            delta bigint;
            cap bigint;
            message text;
        BEGIN
            UPDATE jobs SET status = 'succeeded', lease_owner = NULL, lease_expires = NULL, seq = seq + p_steps,
                finished_at = p_now, upstream_request_id = p_request_id, cost_nano = p_cost, error_code = p_error_code,
                error_message = p_error_message, error_retryable = p_error_retryable, upstream_key = p_upstream_key,
                result = p_result, usage = p_usage
            WHERE id = p_id AND lease_owner = p_worker AND status = 'running'
            RETURNING seq, favorite, owner INTO v_seq, v_favorite, v_owner;
            IF NOT FOUND THEN
                outcome := 'lost';
                RETURN;
            END IF;
            IF v_seq <> p_seq + p_steps OR v_favorite <> p_favorite THEN
                RAISE EXCEPTION USING ERRCODE = 'AT003', MESSAGE = 'row';
            END IF;
            INSERT INTO images (id, job_id, owner, role, "index", blob_key, thumbnail_key, format, width, height, bytes, created_at)
            SELECT i.id, p_id, i.owner, i.role, i.idx, i.blob, nullif(i.thumbnail, ''), i.format, i.width, i.height, i.bytes, i.created
            FROM unnest(p_image_ids, p_image_owners, p_image_roles, p_image_indexes, p_image_blobs, p_image_thumbnails,
                p_image_formats, p_image_widths, p_image_heights, p_image_bytes, p_image_created)
                AS i(id, owner, role, idx, blob, thumbnail, format, width, height, bytes, created);
            -- `SpendLedger.settle`: the exact cost (the reservation when unknown) replaces the reservation.
            UPDATE spend_ledger SET state = 'settled', settled_nano = charged_nano + coalesce(p_cost, reserved_nano), updated_at = p_now
            WHERE job_id = p_id AND state = 'reserved'
            RETURNING owner, day, month, reserved_nano, cap_day_nano, cap_month_nano, cap_global_nano INTO l;
            IF FOUND THEN
                delta := coalesce(p_cost, l.reserved_nano) - l.reserved_nano;
                IF delta <> 0 THEN
                    FOR t IN
                        UPDATE spend_periods SET amount_nano = amount_nano + delta
                        WHERE (subject = l.owner AND (period = l.day OR period = l.month)) OR (subject = '*' AND period = l.day)
                        RETURNING subject, period, amount_nano
                    LOOP
                        CONTINUE WHEN delta < 0;
                        cap := CASE WHEN t.subject = l.owner AND t.period = l.day THEN l.cap_day_nano
                            WHEN t.subject = l.owner AND t.period = l.month THEN l.cap_month_nano
                            WHEN t.subject = '*' AND t.period = l.day THEN l.cap_global_nano END;
                        CONTINUE WHEN cap IS NULL OR t.amount_nano <= cap;
                        INSERT INTO spend_overruns (id, job_id, subject, period, cap_nano, amount_nano, created_at)
                        VALUES (gen_random_uuid(), p_id, t.subject, t.period, cap, t.amount_nano, p_now);
                        overrun_subjects := array_append(overrun_subjects, t.subject);
                        overrun_periods := array_append(overrun_periods, t.period);
                        overrun_caps := array_append(overrun_caps, cap);
                        overrun_amounts := array_append(overrun_amounts, t.amount_nano);
                        overrun_labels := array_append(overrun_labels,
                            CASE WHEN t.subject = l.owner AND t.period = l.day THEN 'daily'
                                WHEN t.subject = l.owner AND t.period = l.month THEN 'monthly' ELSE 'global' END);
                    END LOOP;
                END IF;
            END IF;
            INSERT INTO job_events (id, job_id, owner, seq, type, payload, created_at)
            SELECT e.id, p_id, v_owner, e.seq, e.type, e.payload, e.created
            FROM unnest(p_event_ids, p_event_seqs, p_event_types, p_event_payloads, p_event_created) AS e(id, seq, type, payload, created);
            IF p_channel IS NOT NULL THEN
                FOREACH message IN ARRAY p_messages LOOP PERFORM pg_notify(p_channel, message); END LOOP;
            END IF;
            -- `WebhookOutbox.enqueue`: one delivery per endpoint of the owner or of everyone subscribed to the type.
            IF p_webhook_type IS NOT NULL THEN
                IF p_webhook_body IS NULL THEN
                    IF EXISTS (SELECT 1 FROM webhooks w WHERE w.owner IN (v_owner, '*')
                        AND position(' ' || p_webhook_type || ' ' IN ' ' || w.events || ' ') > 0) THEN
                        RAISE EXCEPTION USING ERRCODE = 'AT004', MESSAGE = 'webhooks';
                    END IF;
                ELSE
                    INSERT INTO webhook_deliveries (id, webhook_id, owner, event_owner, event_type, payload, dedupe_key, status,
                        attempts, next_attempt_at, window_start, created_at)
                    SELECT gen_random_uuid(), w.id, w.owner, v_owner, p_webhook_type, p_webhook_body, NULL, 'pending', 0,
                        p_webhook_at, p_webhook_at, p_webhook_at
                    FROM webhooks w WHERE w.owner IN (v_owner, '*')
                        AND position(' ' || p_webhook_type || ' ' IN ' ' || w.events || ' ') > 0
                    ON CONFLICT (webhook_id, dedupe_key) DO NOTHING;
                END IF;
            END IF;
            outcome := 'succeeded';
        END
        $$
        """
}
