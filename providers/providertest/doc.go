// Package providertest is the conformance suite for implementations of the
// providers interfaces, in the spirit of testing/slogtest: a provider runs
// it from its own tests with a harness function that makes a fresh
// instance (and, for the read-only sources, the state the suite checks).
//
//	func TestRouterConformance(t *testing.T) {
//		providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
//			cloud := fake.MustNew(fake.Options{})
//			return cloud.Router("alb", "blue", "green"), []string{"blue", "green"}
//		})
//	}
//
// Each Test function runs named subtests, so a failure says which part of
// the contract broke. The suite assumes only what the providers contract
// promises: a change is read back by polling for at most Settle, never
// assumed instant; calls may be slow but must honour a cancelled context.
// It uses real time (it cannot run inside a testing/synctest bubble, which
// forbids subtests), so keep harness warm-ups short.
//
// Router is the package's one test double: an in-memory TrafficRouter
// that records the weights it is given, for tests of code that drives a
// router (a strategy, a simulation whose traffic a router follows), in the
// spirit of net/http/httptest's ResponseRecorder:
//
//	r := providertest.NewRouter(t, "blue", "green")
//	// ... drive r ...
//	if r.Share("green") != 100 { t.Error("green not at 100 %") }
package providertest
