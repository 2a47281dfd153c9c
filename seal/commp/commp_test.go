package commp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	randmath "math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	commcid "github.com/filecoin-project/go-fil-commcid"
	hashhash "github.com/filecoin-project/go-fil-commp-hashhash"
	"github.com/ipfs/go-cid"
)

// kat is one row of a go-fil-commp-hashhash testdata table.
type kat struct {
	payload uint64
	padded  uint64
	comm    Node
}

func loadKATs(t *testing.T, name string) []kat {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []kat
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ",")
		if len(parts) != 3 {
			t.Fatalf("%s: bad line %q", name, sc.Text())
		}
		payload, err1 := strconv.ParseUint(parts[0], 10, 64)
		padded, err2 := strconv.ParseUint(parts[1], 10, 64)
		c, err3 := cid.Decode(parts[2])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s: bad line %q", name, sc.Text())
		}
		raw, err := commcid.CIDToPieceCommitmentV1(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, kat{payload, padded, Node(raw)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].payload < out[j].payload })
	return out
}

// writeSplit writes data to c in uneven pieces (127, a quarter, 254, the rest in odd sizes), as the
// go-fil-commp-hashhash tests do, so buffering across chunk boundaries is exercised.
func writeSplit(t *testing.T, c *Calc, data []byte) {
	t.Helper()
	sizes := []int{127, len(data) / 4, 254, len(data) / 3, 1, chunkRaw + 5}
	for i := 0; len(data) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(data))
		if n == 0 {
			n = 1
		}
		if _, err := c.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
}

// TestRepeatedByteKATs checks every row of go-fil-commp-hashhash testdata/zero.txt and testdata/0xCC.txt
// (TestZero, Test0b11001100) with one and two workers.
func TestRepeatedByteKATs(t *testing.T) {
	for _, tc := range []struct {
		file string
		b    byte
	}{{"zero.txt", 0x00}, {"0xCC.txt", 0xcc}} {
		for _, row := range loadKATs(t, tc.file) {
			for _, workers := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/%d/w%d", tc.file, row.payload, workers), func(t *testing.T) {
					c := NewCalc(workers)
					writeSplit(t, c, bytes.Repeat([]byte{tc.b}, int(row.payload)))
					comm, padded, err := c.Digest()
					if err != nil {
						t.Fatal(err)
					}
					if padded != row.padded || !bytes.Equal(comm, row.comm[:]) {
						t.Fatalf("got %x/%d, want %x/%d", comm, padded, row.comm, row.padded)
					}
				})
			}
		}
	}
}

// randStream reproduces the payload of go-fil-commp-hashhash TestCommP: little-endian bytes of successive
// rand.Uint32() from math/rand seeded with 1337 (4 MiB buffers of whole uint32s, so a payload of N bytes is the
// first N bytes of this stream).
type randStream struct {
	r    *randmath.Rand
	n    uint32
	left int
}

func newRandStream() *randStream { return &randStream{r: randmath.New(randmath.NewSource(1337))} }

func (s *randStream) fill(b []byte) {
	for s.left == 0 && len(b) >= 4 { // fast path: whole uint32s
		binary.LittleEndian.PutUint32(b, s.r.Uint32())
		b = b[4:]
	}
	for i := range b {
		if s.left == 0 {
			s.n, s.left = s.r.Uint32(), 4
		}
		b[i] = byte(s.n)
		s.n >>= 8
		s.left--
	}
}

// TestRandomKATs checks the rows of go-fil-commp-hashhash testdata/random.txt (TestCommP) in one pass over the
// seed-1337 stream, taking the commitment of each prefix. Rows up to 64 MiB run by default (1 MiB with -short);
// SEALFLEET_COMMP_ALL_ROWS=1 runs every row up to 32 GiB (minutes).
func TestRandomKATs(t *testing.T) {
	limit := uint64(64 << 20)
	if testing.Short() {
		limit = 1 << 20
	}
	if os.Getenv("SEALFLEET_COMMP_ALL_ROWS") == "1" {
		limit = ^uint64(0)
	}
	rows := loadKATs(t, "random.txt")
	c := NewCalc(2)
	src := newRandStream()
	buf := make([]byte, 1<<20)
	var pos uint64
	checked := 0
	for _, row := range rows {
		if row.payload > limit {
			break
		}
		for pos < row.payload {
			n := min(uint64(len(buf)), row.payload-pos)
			src.fill(buf[:n])
			if _, err := c.Write(buf[:n]); err != nil {
				t.Fatal(err)
			}
			pos += n
		}
		comm, padded, err := c.digest()
		if err != nil {
			t.Fatal(err)
		}
		if padded != row.padded || comm != row.comm {
			t.Errorf("payload %d: got %x/%d, want %x/%d", row.payload, comm, padded, row.comm, row.padded)
		}
		checked++
	}
	t.Logf("checked %d of %d rows of random.txt", checked, len(rows))
}

// TestMatchesHashhash compares odd payload sizes around chunk boundaries with go-fil-commp-hashhash.
func TestMatchesHashhash(t *testing.T) {
	r := randmath.New(randmath.NewSource(7))
	sizes := []int{65, 127, 128, 1000, chunkRaw - 1, chunkRaw, chunkRaw + 1, 2 * chunkRaw, 3*chunkRaw + 200, 5*chunkRaw - 127, 25*chunkRaw + 300}
	for range 6 {
		sizes = append(sizes, 65+r.Intn(6*chunkRaw))
	}
	for _, size := range sizes {
		data := make([]byte, size)
		r.Read(data)
		ref := &hashhash.Calc{}
		ref.Write(data)
		want, wantPadded, err := ref.Digest()
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%d/w%d", size, workers), func(t *testing.T) {
				c := NewCalc(workers)
				writeSplit(t, c, data)
				got, padded, err := c.Digest()
				if err != nil {
					t.Fatal(err)
				}
				if padded != wantPadded || !bytes.Equal(got, want) {
					t.Fatalf("got %x/%d, want %x/%d", got, padded, want, wantPadded)
				}
				// Reuse after Digest gives the same answer.
				c.Write(data)
				again, _, _ := c.Digest()
				if !bytes.Equal(again, want) {
					t.Fatal("reused Calc differs")
				}
			})
		}
	}
}

func TestTooSmall(t *testing.T) {
	c := &Calc{}
	c.Write(make([]byte, 64))
	if _, _, err := c.Digest(); err == nil {
		t.Fatal("64 bytes: want error")
	}
	c.Write([]byte{0})
	if _, padded, err := c.Digest(); err != nil || padded != 128 {
		t.Fatalf("65 bytes: got %d, %v", padded, err)
	}
}

func TestPieceCID(t *testing.T) {
	rows := loadKATs(t, "0xCC.txt")
	row := rows[len(rows)-1]
	data := bytes.Repeat([]byte{0xcc}, int(row.payload))
	pi, err := PieceCID(bytes.NewReader(append(data, 1, 2, 3)), row.payload)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := commcid.DataCommitmentV1ToCID(row.comm[:])
	if pi.PieceCID != want || uint64(pi.Size) != row.padded {
		t.Fatalf("got %s/%d want %s/%d", pi.PieceCID, pi.Size, want, row.padded)
	}
	if _, err := PieceCID(bytes.NewReader(data[:100]), 200); err == nil {
		t.Fatal("short reader: want error")
	}
	if _, err := PieceCID(bytes.NewReader(data), 64); err == nil {
		t.Fatal("size 64: want error")
	}
	if _, err := GeneratePieceCID(bytes.NewReader(data), 1000); err == nil {
		t.Fatal("invalid unpadded size: want error")
	}
	pi, err = GeneratePieceCID(bytes.NewReader(make([]byte, 1016)), 1016)
	if err != nil || pi.Size != 1024 {
		t.Fatalf("1016 zero bytes: %v %v", pi, err)
	}
	if zero, _ := ZeroPieceCommitment(1024); pi.PieceCID != zero {
		t.Fatalf("zero piece CID %s, want %s", pi.PieceCID, zero)
	}
}

func mustHex(t *testing.T, s string) Node {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", s)
	}
	return Node(b)
}
