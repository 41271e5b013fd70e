// Package apperr holds the error kinds that cross package lines and that the
// API maps to error codes: invalid input (BAD_USER_INPUT) and not found
// (NOT_FOUND). Anything else reaching the API is an internal error.
package apperr

import (
	"errors"
	"fmt"
)

// InvalidError says which argument was wrong and why; it is shown to the
// caller as is, so it must not contain secrets.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Invalid builds an InvalidError.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NotFoundError says which thing was missing.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What + " not found" }

// NotFound builds a NotFoundError.
func NotFound(what string) error { return &NotFoundError{What: what} }

// IsInvalid reports whether err is or wraps an InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// IsNotFound reports whether err is or wraps a NotFoundError.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}
