package web

import "errors"

// ErrNotFound is returned by a Source when the asked-for sector (or other item) does not exist; the dashboard
// answers 404.
var ErrNotFound = errors.New("not found")
