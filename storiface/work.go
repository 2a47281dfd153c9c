package storiface

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// WorkDigest is the hex SHA-256 of the JSON encoding of a call's parameters. The manager's WorkIDs and the
// workers' execution records both identify a piece of work by its task type and this digest, so identical calls
// (the same work re-issued after a restart) get the same identity on both sides.
func WorkDigest(task TaskType, params ...any) (string, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("digesting %s parameters: %w", task, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
