package sched
import "testing"
func BenchmarkPassBig(b *testing.B) { for i := 0; i < b.N; i++ { BenchPass(5000, 50000) } }
