// Command gates compares three canary gates on simulated traffic: an
// Argo-style threshold gate, a Kayenta-style fixed-horizon Mann-Whitney
// comparison, and the sequential judge of package health.
//
//	go run ./bench/gates          # 10,000 healthy trials, 1,000 per bad case
//	go run ./bench/gates -quick   # fewer trials
//
// Traffic is drawn per second, binomially per arm: 1000 requests/s, 10 % to
// the canary, baseline error rate 0.5 %, over a 30-minute horizon. Its last
// line is a "summary:" line with the headline figures.
package main
