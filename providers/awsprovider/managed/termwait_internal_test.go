package managed

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

// TestTerminationWaitPerState reads the start of the termination wait
// from the deployment's own data in every state the API reference
// documents (DeploymentStatus, and the ECS target's lifecycle event
// statuses): never from the target's status or from when it was looked
// at.
func TestTerminationWaitPerState(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	shiftEnd := t0.Add(10 * time.Minute)
	ev := func(name string, st cdtypes.LifecycleEventStatus, end *time.Time) cdtypes.LifecycleEvent {
		return cdtypes.LifecycleEvent{LifecycleEventName: aws.String(name), Status: st, StartTime: aws.Time(t0), EndTime: end}
	}
	installed := []cdtypes.LifecycleEvent{
		ev("BeforeInstall", cdtypes.LifecycleEventStatusSucceeded, aws.Time(t0)),
		ev("Install", cdtypes.LifecycleEventStatusSucceeded, aws.Time(t0)),
		ev("AfterInstall", cdtypes.LifecycleEventStatusSucceeded, aws.Time(t0)),
		ev("AllowTestTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(t0)),
		ev("AfterAllowTestTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(t0)),
	}
	with := func(evs ...cdtypes.LifecycleEvent) *cdtypes.ECSTarget {
		// The target's status and last update say the wait began an
		// hour ago: they must not count.
		return &cdtypes.ECSTarget{Status: cdtypes.TargetStatusSucceeded, LastUpdatedAt: aws.Time(t0.Add(-time.Hour)),
			LifecycleEvents: append(append([]cdtypes.LifecycleEvent(nil), installed...), evs...)}
	}
	shifting := with(
		ev("BeforeAllowTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(t0)),
		ev("AllowTraffic", cdtypes.LifecycleEventStatusInProgress, nil),
		ev("AfterAllowTraffic", cdtypes.LifecycleEventStatusPending, nil))
	shifted := with(
		ev("BeforeAllowTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(t0)),
		ev("AllowTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(shiftEnd.Add(-time.Second))),
		ev("AfterAllowTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(shiftEnd)))
	skippedHook := with(
		ev("AllowTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(shiftEnd)),
		ev("AfterAllowTraffic", cdtypes.LifecycleEventStatusSkipped, aws.Time(shiftEnd)))
	hookRunning := with(
		ev("AllowTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(shiftEnd)),
		ev("AfterAllowTraffic", cdtypes.LifecycleEventStatusInProgress, nil))
	noEnd := with(
		ev("AllowTraffic", cdtypes.LifecycleEventStatusSucceeded, aws.Time(shiftEnd)),
		ev("AfterAllowTraffic", cdtypes.LifecycleEventStatusSucceeded, nil))

	for _, tc := range []struct {
		name    string
		status  cdtypes.DeploymentStatus
		flag    bool
		target  *cdtypes.ECSTarget
		started bool
		began   time.Time
	}{
		{name: "Created", status: cdtypes.DeploymentStatusCreated, target: shifted},
		{name: "Queued", status: cdtypes.DeploymentStatusQueued, target: shifted},
		{name: "Ready (waiting to reroute)", status: cdtypes.DeploymentStatusReady, flag: true, target: shifted},
		{name: "InProgress installing", status: cdtypes.DeploymentStatusInProgress, target: with()},
		{name: "InProgress shifting", status: cdtypes.DeploymentStatusInProgress, target: shifting},
		{name: "InProgress after-traffic hook running", status: cdtypes.DeploymentStatusInProgress, target: hookRunning},
		{name: "InProgress termination wait, flag set", status: cdtypes.DeploymentStatusInProgress, flag: true, target: shifted, started: true, began: shiftEnd},
		{name: "InProgress termination wait, flag left false", status: cdtypes.DeploymentStatusInProgress, target: shifted, started: true, began: shiftEnd},
		{name: "InProgress termination wait, hook skipped", status: cdtypes.DeploymentStatusInProgress, target: skippedHook, started: true, began: shiftEnd},
		{name: "InProgress flag set, target unknown", status: cdtypes.DeploymentStatusInProgress, flag: true, started: true},
		{name: "InProgress flag set, events still shifting", status: cdtypes.DeploymentStatusInProgress, flag: true, target: shifting, started: true},
		{name: "InProgress event ended without endTime", status: cdtypes.DeploymentStatusInProgress, target: noEnd, started: true},
		{name: "Baking termination wait", status: cdtypes.DeploymentStatusBaking, flag: true, target: shifted, started: true, began: shiftEnd},
		{name: "Succeeded", status: cdtypes.DeploymentStatusSucceeded, flag: true, target: shifted},
		{name: "Failed", status: cdtypes.DeploymentStatusFailed, flag: true, target: shifted},
		{name: "Stopped", status: cdtypes.DeploymentStatusStopped, flag: true, target: shifted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := &cdtypes.DeploymentInfo{Status: tc.status, InstanceTerminationWaitTimeStarted: tc.flag}
			started, began := terminationWait(info, tc.target)
			if started != tc.started || !began.Equal(tc.began) {
				t.Errorf("terminationWait = %t, %v; want %t, %v", started, began, tc.started, tc.began)
			}
		})
	}
}
