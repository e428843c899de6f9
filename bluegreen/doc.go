// Package bluegreen stands green up beside blue, switches traffic to it, keeps
// blue warm so the switch can be undone, and finally retires blue.
//
// The full strategy has four stages:
//
//   - "prepare green": scale green's Fleet to blue's capacity and wait, with
//     a bound, until its targets are healthy; pre-switch gates judge green
//     alone (probes, test traffic).
//   - "switch to green": all traffic at once, through a Switcher (a CNAME
//     swap) or a TrafficRouter (0 → 100); post-switch gates bake; reverting
//     switches back.
//   - "keep blue warm": blue keeps its capacity while the post-switch gates
//     go on being judged for the warm window. The stage is reversible: a
//     failure in the window switches traffic back to the still-warm blue.
//   - "retire blue": scale blue to zero (or a Retire function of your own).
//     Irreversible, so it is the plan's one point of no return, and the
//     runner applies it only with an approval.
//
// Keeping blue warm is modelled as the bake of a reversible stage rather
// than as a stage reversible within a window: blue stays warm until it is
// retired, so nothing becomes irreversible before "retire blue", and the
// plan analysis reports exactly one PNR.
//
// Prepare, Switch and Finish return the parts as strategies of their own,
// so a gradual switch composes in the middle:
//
//	bg, err := bluegreen.New(bluegreen.Options{BlueFleet: blue, GreenFleet: green, Router: alb})
//	shift, err := canary.New(alb, canary.Options{Steps: canary.Weights(5, 25, 50, 100)})
//	plan, err := cutover.Sequence("ec2 to fargate", bg.Prepare(), shift, bg.Finish())
package bluegreen
