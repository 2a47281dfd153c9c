package storiface

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an error that crosses an RPC boundary, so the receiver can react without parsing text.
type ErrorCode int

// The error codes. Values are stable: they are persisted in call records and sent over RPC.
const (
	ErrUnknown ErrorCode = iota
	// ErrTempUnknown is a temporary failure: retrying the same call later may succeed.
	ErrTempUnknown
	// ErrTempWorkerRestart means the worker restarted and the call will never complete there: reschedule it.
	ErrTempWorkerRestart
	// ErrTempAllocateSpace means no storage path had room: retry when space frees up.
	ErrTempAllocateSpace
	// ErrBadInput means the request itself is wrong: retrying it unchanged cannot succeed.
	ErrBadInput
	// ErrCallAborted means an operator or the manager aborted the call.
	ErrCallAborted
)

var codeNames = map[ErrorCode]string{
	ErrUnknown: "unknown", ErrTempUnknown: "temporary", ErrTempWorkerRestart: "worker-restart",
	ErrTempAllocateSpace: "allocate-space", ErrBadInput: "bad-input", ErrCallAborted: "aborted",
}

// String names the code.
func (c ErrorCode) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Temporary reports whether an error with this code may succeed on retry.
func (c ErrorCode) Temporary() bool {
	return c == ErrTempUnknown || c == ErrTempWorkerRestart || c == ErrTempAllocateSpace
}

// CallError is an error with a code; it survives JSON encoding across RPC.
type CallError struct {
	Code    ErrorCode
	Message string
}

// Error implements error.
func (e *CallError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Err builds a CallError from a code and an error; a nil err gives nil.
func Err(code ErrorCode, err error) *CallError {
	if err == nil {
		return nil
	}
	return &CallError{Code: code, Message: err.Error()}
}

// Errf builds a CallError from a code and a format.
func Errf(code ErrorCode, format string, args ...any) *CallError {
	return &CallError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code carried by err (wrapped or not), or ErrUnknown.
func CodeOf(err error) ErrorCode {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ErrUnknown
}
