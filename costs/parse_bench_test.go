package costs

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// BenchmarkParseFOCUS measures the CSV parsing and validation side of an
// import (no database) on the real sample, per row.
func BenchmarkParseFOCUS(b *testing.B) {
	data, err := os.ReadFile("testdata/focus-1.0-sample-aws.csv")
	if err != nil {
		b.Fatal(err)
	}
	var row Row
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		fr, err := newFocusReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, errs, err := fr.next(&row)
			if err == io.EOF {
				break
			}
			if err != nil || errs != nil {
				b.Fatal(err, errs)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkEncodeCOPY measures encoding parsed rows into COPY text.
func BenchmarkEncodeCOPY(b *testing.B) {
	rows := sampleRows(b)
	pr, pw := io.Pipe()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	w := &pgWriter{copyStream: &copyStream{pw: pw, buf: newBuf(pw)}, sourceID: "0", importID: "1"}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range rows {
			if err := w.write(&rows[i]); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
	pw.Close()
}

// BenchmarkStreamRollups measures summing parsed rows into the in-memory
// rollups an import keeps while it streams.
func BenchmarkStreamRollups(b *testing.B) {
	rows := sampleRows(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		var sums streamRollups
		for i := range rows {
			sums.add(&rows[i])
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

// sampleRows parses the AWS sample once, for benchmarks of what follows
// parsing.
func sampleRows(b *testing.B) []Row {
	b.Helper()
	data, err := os.ReadFile("testdata/focus-1.0-sample-aws.csv")
	if err != nil {
		b.Fatal(err)
	}
	fr, err := newFocusReader(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	var rows []Row
	for {
		var r Row
		if _, _, err := fr.next(&r); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}
