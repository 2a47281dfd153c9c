// Command gen writes manager/cbor_gen.go: the CBOR encoders of the manager call tracker's persisted records.
// Run it with `go generate ./manager` from the module root.
package main

import (
	"log"

	cbg "github.com/whyrusleeping/cbor-gen"

	"sealfleet/manager"
)

func main() {
	if err := cbg.WriteMapEncodersToFile("cbor_gen.go", "manager",
		manager.CallRef{},
		manager.WorkID{},
		manager.WorkState{},
	); err != nil {
		log.Fatalf("generating manager/cbor_gen.go: %v", err)
	}
}
