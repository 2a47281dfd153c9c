//go:build tools

// Package deps pins the modules sealfleet's packages use, so `go mod tidy` keeps them while packages are built
// in parallel. It is never compiled into the binary.
package deps

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/chromedp/chromedp"
	_ "github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	_ "github.com/filecoin-project/go-fil-commcid"
	_ "github.com/filecoin-project/go-fil-commp-hashhash"
	_ "github.com/filecoin-project/go-jsonrpc"
	_ "github.com/filecoin-project/go-jsonrpc/auth"
	_ "github.com/filecoin-project/go-state-types/abi"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/google/uuid"
	_ "github.com/ipfs/go-cid"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/triplewz/poseidon"
	_ "github.com/urfave/cli/v2"
	_ "github.com/whyrusleeping/cbor-gen"
	_ "golang.org/x/crypto/blake2b"
	_ "modernc.org/sqlite"
)
