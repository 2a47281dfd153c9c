package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/filecoin-project/go-jsonrpc/auth"
)

// FuzzRPCRequest posts arbitrary bodies, with an admin token, to a fake manager's JSON-RPC handler (every method
// with its real parameter decoders): nothing may panic, and every answer is a JSON-RPC response or a client
// error.
func FuzzRPCRequest(f *testing.F) {
	secret := bytes.Repeat([]byte{1}, SecretSize)
	admin, err := NewToken(secret, AllPermissions)
	if err != nil {
		f.Fatal(err)
	}
	var p ManagerStruct
	auth.PermissionedProxy(AllPermissions, DefaultPerms, &fakeManager{}, &p.Internal)
	codeErrors(&p.Internal)
	h := rpcHandlerLimit(&p, Verifier(secret), 1<<20)
	for _, s := range []string{
		rpcCall("Version", "[]"),
		rpcCall("Abort", `[{"Sector":{"Miner":1000,"Number":1},"ID":"0b8f5f1e-8f1a-4b52-9d5a-6f1c2a9b7e11"}]`),
		rpcCall("SealPreCommit1", `[{"ID":{"Miner":1000,"Number":1},"ProofType":5},"AQID",[{"Size":2048,"PieceCID":{"/":"baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"}}]]`),
		rpcCall("ReturnAddPiece", `[{"Sector":{"Miner":1,"Number":1},"ID":"0b8f5f1e-8f1a-4b52-9d5a-6f1c2a9b7e11"},{"Size":2048},{"Code":3,"Message":"x"}]`),
		rpcCall("StorageDeclareSector", `["id",{"Miner":1,"Number":2},2,true]`),
		`[` + rpcCall("Version", "[]") + `,` + rpcCall("WorkerJobs", "[]") + `]`,
		`{"jsonrpc":"2.0","method":"Sealfleet.Version","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"xrpc.cancel","params":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/rpc/v0", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !bytes.Contains(rec.Body.Bytes(), []byte(`"error"`)) {
			t.Fatalf("status %d without a JSON-RPC error for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
	})
}
