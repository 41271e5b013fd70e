package costs

import (
	"fmt"
	"strings"
)

// RowError is one invalid field of an input file.
type RowError struct {
	Line   int
	Column string
	Reason string
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
}

// maxListedErrors bounds the errors an import reports.
const maxListedErrors = 20

// InvalidError says an import was refused because rows were invalid; it
// lists the first few and counts them all.
type InvalidError struct {
	Name    string
	Errors  []RowError
	Invalid int // invalid rows seen before stopping
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: invalid rows, nothing imported (use --skip-invalid to import the valid rows)", e.Name)
	for _, re := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(re.Error())
	}
	if e.Invalid > len(e.Errors) {
		fmt.Fprintf(&b, "\n  … and more")
	}
	return b.String()
}
