// Package demotest runs an example's scenario in tests and checks its exit
// status and output.
package demotest
