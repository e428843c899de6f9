// Package settle is the one home of propagation for the strategies: how
// long after a traffic change clients may still follow the old one (a DNS
// TTL), taken from the user's option or else from the router or switcher
// itself (providers.Propagator), and a gate wrapper that holds a gate
// Pending until that time has passed, so that gates judge traffic that
// follows the change. canary and bluegreen use it.
//
//	p := settle.NewPropagation(opts.Propagation, router)
//	if p.Dynamic() {
//		gate = settle.Gate(gate, name, p, clock)
//	}
//	// in Apply, before changing traffic:
//	d, err := p.Read(ctx)
package settle
