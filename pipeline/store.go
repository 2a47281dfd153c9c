package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/db"
)

// migrations builds the pipeline's schema for the dialect (binary columns are BLOB in SQLite, BYTEA in
// PostgreSQL). Times are unix nanoseconds in BIGINT columns.
func migrations(d db.Dialect) []db.Migration {
	blob := "BLOB"
	if d == db.Postgres {
		blob = "BYTEA"
	}
	return []db.Migration{{Name: "sectors-events-counters", SQL: strings.ReplaceAll(`
CREATE TABLE pipeline_sectors (
	number BIGINT PRIMARY KEY,
	proof_type BIGINT NOT NULL,
	state TEXT NOT NULL,
	retry_state TEXT NOT NULL,
	pieces TEXT NOT NULL,
	ticket BLOBTYPE,
	seed BLOBTYPE,
	comm_d TEXT NOT NULL,
	comm_r TEXT NOT NULL,
	pc1_out BLOBTYPE,
	c1_out BLOBTYPE,
	proof BLOBTYPE,
	retries BIGINT NOT NULL,
	last_error TEXT NOT NULL,
	next_retry_at BIGINT NOT NULL,
	seed_at BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL);
CREATE INDEX pipeline_sectors_state ON pipeline_sectors (state);
CREATE TABLE pipeline_events (
	sector BIGINT NOT NULL,
	seq BIGINT NOT NULL,
	at BIGINT NOT NULL,
	from_state TEXT NOT NULL,
	to_state TEXT NOT NULL,
	message TEXT NOT NULL,
	PRIMARY KEY (sector, seq));
CREATE TABLE pipeline_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO pipeline_counters (name, value) VALUES ('next_sector', 0)`, "BLOBTYPE", blob)},
		{Name: "sector-admitted", SQL: `ALTER TABLE pipeline_sectors ADD COLUMN admitted BIGINT NOT NULL DEFAULT 0`},
	}
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// store reads and writes the pipeline's tables.
type store struct {
	db *db.DB
}

const sectorColumns = `number, proof_type, state, retry_state, pieces, ticket, seed, comm_d, comm_r, proof, retries,
	last_error, next_retry_at, seed_at, created_at, updated_at, admitted, pc1_out IS NOT NULL, c1_out IS NOT NULL`

// allocNumber takes the next sector number from the persisted counter.
func (s *store) allocNumber(ctx context.Context, q querier) (abi.SectorNumber, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT value FROM pipeline_counters WHERE name = 'next_sector'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading sector counter: %w", err)
	}
	if _, err := q.ExecContext(ctx, s.db.Rebind(`UPDATE pipeline_counters SET value = ? WHERE name = 'next_sector'`), n+1); err != nil {
		return 0, fmt.Errorf("advancing sector counter: %w", err)
	}
	return abi.SectorNumber(n), nil
}

// insert writes a new sector record.
func (s *store) insert(ctx context.Context, q querier, sec *sector) error {
	pieces, err := json.Marshal(sec.Pieces)
	if err != nil {
		return fmt.Errorf("encoding pieces: %w", err)
	}
	_, err = q.ExecContext(ctx, s.db.Rebind(`INSERT INTO pipeline_sectors (number, proof_type, state, retry_state,
		pieces, ticket, seed, comm_d, comm_r, pc1_out, c1_out, proof, retries, last_error, next_retry_at, seed_at,
		created_at, updated_at, admitted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		int64(sec.Number), int64(sec.ProofType), string(sec.State), string(sec.RetryState), string(pieces),
		nilIfEmpty(sec.Ticket), nilIfEmpty(sec.Seed), cidText(sec.CommD), cidText(sec.CommR),
		nilIfEmpty(sec.PC1Out), nilIfEmpty(sec.C1Out), nilIfEmpty(sec.Proof), sec.Retries, sec.LastError,
		nanos(sec.NextRetry), nanos(sec.SeedAt), nanos(sec.Created), nanos(sec.Updated), boolInt(sec.Admitted))
	if err != nil {
		return fmt.Errorf("inserting sector %d: %w", sec.Number, err)
	}
	return nil
}

// update rewrites a sector record. The opaque outputs are written only when given (nil keeps the stored value)
// unless clear names them.
func (s *store) update(ctx context.Context, q querier, sec *sector, clearPC1, clearC1 bool) error {
	pieces, err := json.Marshal(sec.Pieces)
	if err != nil {
		return fmt.Errorf("encoding pieces: %w", err)
	}
	_, err = q.ExecContext(ctx, s.db.Rebind(`UPDATE pipeline_sectors SET state = ?, retry_state = ?, pieces = ?,
		ticket = ?, seed = ?, comm_d = ?, comm_r = ?, proof = ?, retries = ?, last_error = ?, next_retry_at = ?,
		seed_at = ?, updated_at = ?, admitted = ?,
		pc1_out = CASE WHEN ? THEN NULL WHEN ? THEN ? ELSE pc1_out END,
		c1_out = CASE WHEN ? THEN NULL WHEN ? THEN ? ELSE c1_out END
		WHERE number = ?`),
		string(sec.State), string(sec.RetryState), string(pieces), nilIfEmpty(sec.Ticket), nilIfEmpty(sec.Seed),
		cidText(sec.CommD), cidText(sec.CommR), nilIfEmpty(sec.Proof), sec.Retries, sec.LastError,
		nanos(sec.NextRetry), nanos(sec.SeedAt), nanos(sec.Updated), boolInt(sec.Admitted),
		clearPC1, sec.PC1Out != nil, nilIfEmpty(sec.PC1Out),
		clearC1, sec.C1Out != nil, nilIfEmpty(sec.C1Out),
		int64(sec.Number))
	if err != nil {
		return fmt.Errorf("updating sector %d: %w", sec.Number, err)
	}
	return nil
}

// load reads one sector; withOutputs also reads the PC1 and C1 outputs. A missing sector is ErrUnknownSector.
func (s *store) load(ctx context.Context, q querier, n abi.SectorNumber, withOutputs bool) (*sector, error) {
	cols := sectorColumns
	if withOutputs {
		cols += ", pc1_out, c1_out"
	}
	row := q.QueryRowContext(ctx, s.db.Rebind(`SELECT `+cols+` FROM pipeline_sectors WHERE number = ?`), int64(n))
	sec, err := scanSector(row.Scan, withOutputs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sector %d: %w", n, ErrUnknownSector)
	}
	if err != nil {
		return nil, fmt.Errorf("loading sector %d: %w", n, err)
	}
	return sec, nil
}

// list reads every sector without the opaque outputs, by number.
func (s *store) list(ctx context.Context, q querier) ([]*sector, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sectorColumns+` FROM pipeline_sectors ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("listing sectors: %w", err)
	}
	defer rows.Close()
	var out []*sector
	for rows.Next() {
		sec, err := scanSector(rows.Scan, false)
		if err != nil {
			return nil, fmt.Errorf("listing sectors: %w", err)
		}
		out = append(out, sec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing sectors: %w", err)
	}
	return out, nil
}

func scanSector(scan func(...any) error, withOutputs bool) (*sector, error) {
	var (
		sec                                     sector
		number, proof, retries, admitted        int64
		nextRetry, seedAt, created, updated     int64
		state, retryState, pieces, commD, commR string
		ticket, seed, proofBytes, pc1Out, c1Out []byte
		hasPC1, hasC1                           bool
	)
	dest := []any{&number, &proof, &state, &retryState, &pieces, &ticket, &seed, &commD, &commR, &proofBytes,
		&retries, &sec.LastError, &nextRetry, &seedAt, &created, &updated, &admitted, &hasPC1, &hasC1}
	if withOutputs {
		dest = append(dest, &pc1Out, &c1Out)
	}
	if err := scan(dest...); err != nil {
		return nil, err
	}
	sec.Number, sec.ProofType = abi.SectorNumber(number), abi.RegisteredSealProof(proof)
	sec.State, sec.RetryState = SectorState(state), SectorState(retryState)
	if err := json.Unmarshal([]byte(pieces), &sec.Pieces); err != nil {
		return nil, fmt.Errorf("sector %d: decoding pieces: %w", number, err)
	}
	var err error
	if sec.CommD, err = parseCidText(commD); err != nil {
		return nil, fmt.Errorf("sector %d: comm_d: %w", number, err)
	}
	if sec.CommR, err = parseCidText(commR); err != nil {
		return nil, fmt.Errorf("sector %d: comm_r: %w", number, err)
	}
	sec.Ticket, sec.Seed, sec.Proof = ticket, seed, proofBytes
	sec.PC1Out, sec.C1Out, sec.HasPC1Out, sec.HasC1Out = pc1Out, c1Out, hasPC1, hasC1
	sec.Retries, sec.Admitted = int(retries), admitted != 0
	sec.NextRetry, sec.SeedAt = fromNanos(nextRetry), fromNanos(seedAt)
	sec.Created, sec.Updated = fromNanos(created), fromNanos(updated)
	return &sec, nil
}

// addEvent appends an event to a sector's log.
func (s *store) addEvent(ctx context.Context, q querier, ev Event) error {
	_, err := q.ExecContext(ctx, s.db.Rebind(`INSERT INTO pipeline_events (sector, seq, at, from_state, to_state,
		message) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM pipeline_events WHERE sector = ?`),
		int64(ev.Sector), nanos(ev.Time), string(ev.From), string(ev.To), ev.Message, int64(ev.Sector))
	if err != nil {
		return fmt.Errorf("logging event of sector %d: %w", ev.Sector, err)
	}
	return nil
}

// events reads a sector's log, oldest first.
func (s *store) events(ctx context.Context, q querier, n abi.SectorNumber) ([]Event, error) {
	rows, err := q.QueryContext(ctx, s.db.Rebind(`SELECT seq, at, from_state, to_state, message FROM pipeline_events
		WHERE sector = ? ORDER BY seq`), int64(n))
	if err != nil {
		return nil, fmt.Errorf("reading events of sector %d: %w", n, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev := Event{Sector: n}
		var at int64
		var from, to string
		if err := rows.Scan(&ev.Seq, &at, &from, &to, &ev.Message); err != nil {
			return nil, fmt.Errorf("reading events of sector %d: %w", n, err)
		}
		ev.Time, ev.From, ev.To = fromNanos(at), SectorState(from), SectorState(to)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading events of sector %d: %w", n, err)
	}
	return out, nil
}

func nilIfEmpty[T ~[]byte](b T) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func cidText(c cid.Cid) string {
	if !c.Defined() {
		return ""
	}
	return c.String()
}

func parseCidText(s string) (cid.Cid, error) {
	if s == "" {
		return cid.Undef, nil
	}
	return cid.Parse(s)
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
