package native

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

// Prover turns C1 output (vanilla proofs) into a seal proof: C2.
type Prover interface {
	// Name names the prover in logs and errors.
	Name() string
	// Prove returns the proof of a sector from its C1 output.
	Prove(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error)
}

// VanillaFormat tags the proof artifact of the VanillaProver.
const VanillaFormat = "sealfleet-vanilla-porep/1"

// VanillaNotice is written into every vanilla proof: it is not a SNARK and the chain does not accept it.
const VanillaNotice = "vanilla PoRep proof checked by sealfleet; NOT a Groth16 SNARK, NOT accepted by the Filecoin chain"

// VanillaArtifact is the self-contained proof the VanillaProver emits: the C1 output with its public inputs and a
// digest. `sealfleet proofs verify` checks it with VerifyVanillaProof.
type VanillaArtifact struct {
	Format    string                  `json:"format"`
	Notice    string                  `json:"notice"`
	ProofType abi.RegisteredSealProof `json:"proofType"`
	Miner     abi.ActorID             `json:"miner"`
	Number    abi.SectorNumber        `json:"number"`
	Commit1   json.RawMessage         `json:"commit1"`
	Digest    string                  `json:"digest"` // hex SHA-256 of Commit1
}

// VanillaProver is the default prover: it verifies the C1 output with the native verifier and wraps it in a
// VanillaArtifact. It needs no parameter files, and its proofs are not accepted by the Filecoin chain.
type VanillaProver struct{}

var _ Prover = VanillaProver{}

// Name implements Prover.
func (VanillaProver) Name() string { return "vanilla" }

// Prove verifies the C1 output against its own public inputs and returns the artifact.
func (VanillaProver) Prove(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error) {
	out, err := porep.ReadCommit1JSON(bytes.NewReader(c1o))
	if err != nil {
		return nil, storiface.Err(storiface.ErrBadInput, err)
	}
	cfg, err := sdr.ConfigFor(sector.ProofType)
	if err != nil {
		return nil, storiface.Err(storiface.ErrBadInput, err)
	}
	if err := porep.VerifyCommit1(out, out.CommR, out.CommD, out.ReplicaID, out.Seed, cfg); err != nil {
		return nil, storiface.Err(storiface.ErrBadInput, err)
	}
	// The artifact embeds the C1 JSON compacted (as encoding/json writes a RawMessage); the digest covers those bytes.
	var compact bytes.Buffer
	if err := json.Compact(&compact, c1o); err != nil {
		return nil, storiface.Err(storiface.ErrBadInput, err)
	}
	sum := sha256.Sum256(compact.Bytes())
	return json.Marshal(VanillaArtifact{
		Format: VanillaFormat, Notice: VanillaNotice, ProofType: sector.ProofType,
		Miner: sector.ID.Miner, Number: sector.ID.Number, Commit1: compact.Bytes(), Digest: hex.EncodeToString(sum[:]),
	})
}

// PublicInputs are what a verifier knows of a sealed sector independently of its proof.
type PublicInputs struct {
	Sector storiface.SectorRef
	Ticket [32]byte
	Seed   [32]byte
	CommD  [32]byte
	CommR  [32]byte
}

// VerifyVanillaProof checks a VanillaProver artifact against the public inputs: the format, the digest, the
// sector, and every vanilla proof of every challenge (porep.VerifyCommit1 with a replica ID derived from the ticket).
func VerifyVanillaProof(proof []byte, pub PublicInputs) error {
	var a VanillaArtifact
	if err := json.Unmarshal(proof, &a); err != nil {
		return fmt.Errorf("proof: not a vanilla proof artifact: %w", err)
	}
	if a.Format != VanillaFormat {
		return fmt.Errorf("proof: format %q, want %q", a.Format, VanillaFormat)
	}
	sum := sha256.Sum256(a.Commit1)
	if hex.EncodeToString(sum[:]) != a.Digest {
		return errors.New("proof: digest does not match its commit1 content")
	}
	if a.ProofType != pub.Sector.ProofType || a.Miner != pub.Sector.ID.Miner || a.Number != pub.Sector.ID.Number {
		return fmt.Errorf("proof: made for t0%d-%d proof %d, not %s proof %d", a.Miner, a.Number, a.ProofType, pub.Sector, pub.Sector.ProofType)
	}
	out, err := porep.ReadCommit1JSON(bytes.NewReader(a.Commit1))
	if err != nil {
		return fmt.Errorf("proof: %w", err)
	}
	cfg, err := sdr.ConfigFor(pub.Sector.ProofType)
	if err != nil {
		return err
	}
	replicaID, err := ReplicaIDFor(pub.Sector, pub.Ticket, pub.CommD)
	if err != nil {
		return err
	}
	return porep.VerifyCommit1(out, pub.CommR, pub.CommD, replicaID, pub.Seed, cfg)
}

// ExternalProver runs a command for C2: it writes an ExternalRequest as JSON to the command's stdin and takes its
// stdout as the proof. This is how a filecoin-ffi based prover plugs in to produce chain-valid SNARKs.
type ExternalProver struct {
	// Command is the program and its arguments.
	Command []string
	// Timeout bounds one proof (0 means 2 hours).
	Timeout time.Duration
}

// ExternalRequest is the JSON an ExternalProver's command reads on stdin.
type ExternalRequest struct {
	ProofType abi.RegisteredSealProof `json:"proofType"`
	Miner     abi.ActorID             `json:"miner"`
	Number    abi.SectorNumber        `json:"number"`
	Commit1   json.RawMessage         `json:"commit1"` // the C1 output, as documented in docs/cli/proofs-porep.md
	// Commit1FFI is the same C1 output in the form filecoin-ffi's SealCommitPhase2 takes (porep.FFIJSON), for
	// the V1 and V1_1 proofs when the output records its ticket; absent otherwise.
	Commit1FFI json.RawMessage `json:"commit1Ffi,omitempty"`
}

var _ Prover = ExternalProver{}

// Name implements Prover.
func (p ExternalProver) Name() string { return "external" }

// Prove runs the command; a non-zero exit, a timeout or empty output is an error carrying the exit status and
// the end of stderr.
func (p ExternalProver) Prove(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error) {
	if len(p.Command) == 0 || p.Command[0] == "" {
		return nil, errors.New("external prover: no command configured")
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Hour
	}
	req, err := json.Marshal(ExternalRequest{ProofType: sector.ProofType, Miner: sector.ID.Miner, Number: sector.ID.Number,
		Commit1: json.RawMessage(c1o), Commit1FFI: FFICommit1(sector.ProofType, c1o)})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Command[0], p.Command[1:]...)
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	tail := lastBytes(stderr.String(), 2048)
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("external prover %q: timed out after %s; stderr: %s", p.Command[0], timeout, tail)
	case runErr != nil:
		return nil, fmt.Errorf("external prover %q: %w; stderr: %s", p.Command[0], runErr, tail)
	case stdout.Len() == 0:
		return nil, fmt.Errorf("external prover %q: exited 0 but wrote no proof; stderr: %s", p.Command[0], tail)
	}
	return stdout.Bytes(), nil
}

func lastBytes(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	if s == "" {
		return "(empty)"
	}
	return s
}

// FFICommit1 returns the C1 output c1o in the form filecoin-ffi's SealCommitPhase2 takes (porep.FFIJSON), or nil
// where there is none: a proof type other than V1 and V1_1, or an output without its ticket (or not a C1 output).
func FFICommit1(proof abi.RegisteredSealProof, c1o storiface.Commit1Out) json.RawMessage {
	out, err := porep.ReadCommit1JSON(bytes.NewReader(c1o))
	if err != nil {
		return nil
	}
	js, err := out.FFIJSON(proof)
	if err != nil {
		return nil
	}
	return js
}
