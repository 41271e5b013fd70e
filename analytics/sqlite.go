package analytics

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"sync"

	"modernc.org/sqlite"
)

// SQLite has no regular expressions of its own; tally_regexp(pattern, value)
// gives it Go's (RE2), the same syntax the API validates filters with.
var regexCache sync.Map

func init() {
	sqlite.MustRegisterDeterministicScalarFunction("tally_regexp", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		pat, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("tally_regexp: pattern must be text")
		}
		var v string
		switch x := args[1].(type) {
		case string:
			v = x
		case []byte:
			v = string(x)
		case nil:
			return int64(0), nil
		default:
			v = fmt.Sprint(x)
		}
		re, ok := regexCache.Load(pat)
		if !ok {
			c, err := regexp.Compile(pat)
			if err != nil {
				return nil, fmt.Errorf("tally_regexp: %w", err)
			}
			re, _ = regexCache.LoadOrStore(pat, c)
		}
		if re.(*regexp.Regexp).MatchString(v) {
			return int64(1), nil
		}
		return int64(0), nil
	})
}
