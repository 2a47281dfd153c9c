package manager

import (
	"bytes"
	"testing"

	"sealfleet/storiface"
)

// FuzzWorkStateCBOR feeds arbitrary bytes to the cbor-gen decoders of the records the call tracker persists (a
// damaged database row must give an error, never a panic or an unbounded allocation), and checks that a record
// that decodes re-encodes to bytes that decode to the same record.
func FuzzWorkStateCBOR(f *testing.F) {
	id, _ := newWorkID(storiface.TTPreCommit1, 1, "x")
	good := WorkState{
		ID: id, Status: WorkDone, WorkerCall: callRef(storiface.NewCallID(testSector.ID)),
		WorkerHostname: "w1", StartTime: 1700000000, Result: []byte(`"AQID"`), ErrCode: 0,
	}
	var buf bytes.Buffer
	if err := good.MarshalCBOR(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:len(buf.Bytes())/2])
	f.Add([]byte{0x87})                                                 // array(7) header, nothing after
	f.Add([]byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // array of 2^64-1 items
	f.Add([]byte{0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // byte string claiming 2^63 bytes
	f.Fuzz(func(t *testing.T, b []byte) {
		var ws WorkState
		if err := ws.UnmarshalCBOR(bytes.NewReader(b)); err == nil {
			var re bytes.Buffer
			if err := ws.MarshalCBOR(&re); err != nil {
				t.Fatalf("decoded record does not re-encode: %v", err)
			}
			var ws2 WorkState
			if err := ws2.UnmarshalCBOR(bytes.NewReader(re.Bytes())); err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			var re2 bytes.Buffer
			_ = ws2.MarshalCBOR(&re2)
			if !bytes.Equal(re.Bytes(), re2.Bytes()) {
				t.Fatalf("record encoding not stable")
			}
			_ = ws.WorkerCall.CallID() // a malformed UUID must give the zero CallID, not panic
			_ = ws.callError()
		}
		var w WorkID
		_ = w.UnmarshalCBOR(bytes.NewReader(b))
		var c CallRef
		if c.UnmarshalCBOR(bytes.NewReader(b)) == nil {
			_ = c.CallID()
		}
	})
}
