package api

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/filecoin-project/go-jsonrpc"

	"sealfleet/storiface"
)

// RPCErrCode is the JSON-RPC error code of errors that carry a storiface.ErrorCode across the wire.
const RPCErrCode jsonrpc.ErrorCode = 1000

// CodedError is a storiface.CallError on the client side of an RPC: it unwraps to the CallError, so
// storiface.CodeOf and errors.As see the code the server's error carried.
type CodedError struct {
	Code    storiface.ErrorCode
	Message string
}

var _ jsonrpc.RPCErrorCodec = (*CodedError)(nil)

// Error returns the server's message.
func (e *CodedError) Error() string { return e.Message }

// Unwrap returns the error as a CallError.
func (e *CodedError) Unwrap() error { return &storiface.CallError{Code: e.Code, Message: e.Message} }

// ToJSONRPCError encodes the code in the error's meta field.
func (e *CodedError) ToJSONRPCError() (jsonrpc.JSONRPCError, error) {
	meta, err := json.Marshal(e.Code)
	if err != nil {
		return jsonrpc.JSONRPCError{}, err
	}
	return jsonrpc.JSONRPCError{Code: RPCErrCode, Message: e.Message, Meta: meta}, nil
}

// FromJSONRPCError decodes what ToJSONRPCError encoded.
func (e *CodedError) FromJSONRPCError(j jsonrpc.JSONRPCError) error {
	e.Message = j.Message
	if len(j.Meta) == 0 {
		return nil
	}
	if err := json.Unmarshal(j.Meta, &e.Code); err != nil {
		return fmt.Errorf("decoding error code: %w", err)
	}
	return nil
}

// rpcErrors tells go-jsonrpc clients to decode RPCErrCode errors as *CodedError.
func rpcErrors() jsonrpc.Errors {
	errs := jsonrpc.NewErrors()
	errs.Register(RPCErrCode, new(*CodedError))
	return errs
}

var errorType = reflect.TypeFor[error]()

// codeErrors wraps every function of a proxy's Internal struct so that a returned error carrying a
// storiface.ErrorCode (wrapped or not) leaves the server as a *CodedError, keeping its code.
func codeErrors(internal any) {
	v := reflect.ValueOf(internal).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		ft := f.Type()
		if f.IsNil() || ft.NumOut() == 0 || ft.Out(ft.NumOut()-1) != errorType {
			continue
		}
		inner := reflect.ValueOf(f.Interface())
		f.Set(reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
			out := inner.Call(args)
			last := out[len(out)-1]
			if last.IsNil() {
				return out
			}
			err := last.Interface().(error)
			if code := storiface.CodeOf(err); code != storiface.ErrUnknown {
				ce := error(&CodedError{Code: code, Message: err.Error()})
				out[len(out)-1] = reflect.ValueOf(&ce).Elem()
			}
			return out
		}))
	}
}
