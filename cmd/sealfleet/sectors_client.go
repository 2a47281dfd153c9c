package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/pipeline"
	"sealfleet/storiface"
)

// sectorsAPI is what the sectors commands need from the manager. The JSON-RPC methods are served at /rpc/v0
// under api.Namespace; piece data goes over plain HTTP (pipeline.PiecesPath, pipeline.ReadPath) so large
// payloads stream instead of being JSON-encoded.
type sectorsAPI interface {
	SectorsPledge(ctx context.Context) (abi.SectorNumber, error)
	SectorsAddPiece(ctx context.Context, r io.Reader, size uint64) (pipeline.SectorPieceLocation, error)
	SectorsList(ctx context.Context) ([]pipeline.SectorInfo, error)
	SectorsStatus(ctx context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error)
	SectorsEvents(ctx context.Context, n abi.SectorNumber) ([]pipeline.Event, error)
	SectorsRemove(ctx context.Context, n abi.SectorNumber) error
	SectorsUpdateState(ctx context.Context, n abi.SectorNumber, state pipeline.SectorState) error
	SectorsUnseal(ctx context.Context, n abi.SectorNumber) error
	SectorsRead(ctx context.Context, w io.Writer, n abi.SectorNumber, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) error
}

// sectorsRPC holds the JSON-RPC methods of sectorsAPI, filled in by go-jsonrpc.
type sectorsRPC struct {
	SectorsPledge      func(ctx context.Context) (abi.SectorNumber, error)
	SectorsList        func(ctx context.Context) ([]pipeline.SectorInfo, error)
	SectorsStatus      func(ctx context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error)
	SectorsEvents      func(ctx context.Context, n abi.SectorNumber) ([]pipeline.Event, error)
	SectorsRemove      func(ctx context.Context, n abi.SectorNumber) error
	SectorsUpdateState func(ctx context.Context, n abi.SectorNumber, state pipeline.SectorState) error
	SectorsUnseal      func(ctx context.Context, n abi.SectorNumber) error
}

// sectorsClient implements sectorsAPI against a running manager.
type sectorsClient struct {
	rpc  sectorsRPC
	info api.Info
	base string // http(s)://host:port
	http *http.Client
}

var _ sectorsAPI = (*sectorsClient)(nil)

// dialSectors connects to the manager described by info.
func dialSectors(ctx context.Context, info api.Info) (*sectorsClient, jsonrpc.ClientCloser, error) {
	addr, err := info.RPCAddr("http")
	if err != nil {
		return nil, nil, err
	}
	c := &sectorsClient{info: info, base: strings.TrimSuffix(addr, api.RPCPath), http: http.DefaultClient}
	closer, err := jsonrpc.NewMergeClient(ctx, addr, api.Namespace, []any{&c.rpc}, info.Header())
	if err != nil {
		return nil, nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	return c, closer, nil
}

func (c *sectorsClient) SectorsPledge(ctx context.Context) (abi.SectorNumber, error) {
	return c.rpc.SectorsPledge(ctx)
}

func (c *sectorsClient) SectorsList(ctx context.Context) ([]pipeline.SectorInfo, error) {
	return c.rpc.SectorsList(ctx)
}

func (c *sectorsClient) SectorsStatus(ctx context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error) {
	return c.rpc.SectorsStatus(ctx, n)
}

func (c *sectorsClient) SectorsEvents(ctx context.Context, n abi.SectorNumber) ([]pipeline.Event, error) {
	return c.rpc.SectorsEvents(ctx, n)
}

func (c *sectorsClient) SectorsRemove(ctx context.Context, n abi.SectorNumber) error {
	return c.rpc.SectorsRemove(ctx, n)
}

func (c *sectorsClient) SectorsUpdateState(ctx context.Context, n abi.SectorNumber, st pipeline.SectorState) error {
	return c.rpc.SectorsUpdateState(ctx, n, st)
}

func (c *sectorsClient) SectorsUnseal(ctx context.Context, n abi.SectorNumber) error {
	return c.rpc.SectorsUnseal(ctx, n)
}

// SectorsAddPiece streams r to POST /pieces?size=N.
func (c *sectorsClient) SectorsAddPiece(ctx context.Context, r io.Reader, size uint64) (pipeline.SectorPieceLocation, error) {
	u := fmt.Sprintf("%s%s?size=%d", c.base, pipeline.PiecesPath, size)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, r)
	if err != nil {
		return pipeline.SectorPieceLocation{}, err
	}
	req.ContentLength = int64(size)
	req.Header = c.info.Header()
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return pipeline.SectorPieceLocation{}, fmt.Errorf("sending piece: %w", err)
	}
	defer resp.Body.Close()
	if err := httpFailure(resp); err != nil {
		return pipeline.SectorPieceLocation{}, fmt.Errorf("sending piece: %w", err)
	}
	var loc pipeline.SectorPieceLocation
	if err := json.NewDecoder(resp.Body).Decode(&loc); err != nil {
		return pipeline.SectorPieceLocation{}, fmt.Errorf("decoding the piece location: %w", err)
	}
	return loc, nil
}

// SectorsRead copies GET /pieces/read/N?offset=O&size=S to w, checking that all S bytes arrived.
func (c *sectorsClient) SectorsRead(ctx context.Context, w io.Writer, n abi.SectorNumber, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) error {
	q := url.Values{"offset": {fmt.Sprint(uint64(offset))}, "size": {fmt.Sprint(uint64(size))}}
	u := fmt.Sprintf("%s%s/%d?%s", c.base, pipeline.ReadPath, n, q.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header = c.info.Header()
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reading sector %d: %w", n, err)
	}
	defer resp.Body.Close()
	if err := httpFailure(resp); err != nil {
		return fmt.Errorf("reading sector %d: %w", n, err)
	}
	got, err := io.Copy(w, resp.Body)
	if err != nil {
		return fmt.Errorf("reading sector %d: %w", n, err)
	}
	if got != int64(size) {
		return fmt.Errorf("reading sector %d: got %d of %d bytes", n, got, size)
	}
	return nil
}

// httpFailure turns a non-200 response into an error carrying the server's message.
func httpFailure(resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
}
