package main

import (
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

func TestParseCallID(t *testing.T) {
	id := storiface.NewCallID(abi.SectorID{Miner: 1000, Number: 42})
	cases := []struct {
		in      string
		want    storiface.CallID
		wantErr bool
	}{
		{in: id.String(), want: id},
		{in: "1000-42", wantErr: true},
		{in: "x-42-" + id.ID.String(), wantErr: true},
		{in: "1000-42-not-a-uuid", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseCallID(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tc.wantErr && got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
