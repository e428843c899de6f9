package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/safecutover/safecutover/providers"
)

// stateVersion is the version of the saved state's format.
const stateVersion = 1

// stateFile is the saved state: everything the simulated traffic depends
// on, so a loaded cloud serves the same metrics for the same windows.
// Faults and the call record are not saved.
type stateFile struct {
	Version          int           `json:"version"`
	SavedAt          time.Time     `json:"saved_at"`
	Seed             int64         `json:"seed"`
	Rate             float64       `json:"rate"`
	Profile          Profile       `json:"profile"`
	LatencyObjective time.Duration `json:"latency_objective"`
	WarmUp           time.Duration `json:"warm_up"`
	Routers          []doorJSON    `json:"routers,omitempty"`
	Switchers        []doorJSON    `json:"switchers,omitempty"`
	Fleets           []fleetJSON   `json:"fleets,omitempty"`
	Targets          []targetJSON  `json:"targets,omitempty"`
	Alarms           []alarmJSON   `json:"alarms,omitempty"`
}

type doorJSON struct {
	Name    string      `json:"name"`
	Targets []string    `json:"targets"`
	History []stateJSON `json:"history"`
}

type stateJSON struct {
	At      time.Time `json:"at"`
	Rate    float64   `json:"rate"`
	Weights []int     `json:"weights"`
}

type fleetJSON struct {
	Name      string        `json:"name"`
	Desired   int           `json:"desired"`
	Members   []member      `json:"members,omitempty"`
	Next      int           `json:"next"`
	WarmUp    time.Duration `json:"warm_up"`
	Unhealthy int           `json:"unhealthy,omitempty"`
}

type targetJSON struct {
	Name     string        `json:"name"`
	Profiles []profileJSON `json:"profiles"`
}

type profileJSON struct {
	At      time.Time `json:"at"`
	Profile Profile   `json:"profile"`
}

type alarmJSON struct {
	Name    string     `json:"name"`
	Spec    *AlarmSpec `json:"spec,omitempty"`
	State   string     `json:"state"`
	Reason  string     `json:"reason,omitempty"`
	Updated time.Time  `json:"updated"`
}

// Save writes the cloud's state (routers, switchers and fleets with their
// histories, profiles, alarms, the seed) to path as JSON, atomically: a
// reader, or a process killed meanwhile, sees the old file or the new one,
// never a mix. Faults and recorded calls are not saved.
func (c *Cloud) Save(path string) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	return c.saveLocked(path)
}

func (c *Cloud) saveLocked(path string) error {
	data, err := json.MarshalIndent(c.snapshot(), "", " ")
	if err != nil {
		return fmt.Errorf("fake: save %s: %w", path, err)
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("fake: save: %w", err)
	}
	return nil
}

func (c *Cloud) snapshot() stateFile {
	st := stateFile{
		Version: stateVersion, SavedAt: c.clock.Now(), Seed: int64(c.seed), Rate: c.opts.Rate,
		Profile: c.opts.Profile, LatencyObjective: c.opts.LatencyObjective, WarmUp: c.opts.WarmUp,
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, name := range sortedKeys(c.routers) {
		st.Routers = append(st.Routers, c.routers[name].d.toJSON())
	}
	for _, name := range sortedKeys(c.switchers) {
		st.Switchers = append(st.Switchers, c.switchers[name].d.toJSON())
	}
	for _, name := range sortedKeys(c.fleets) {
		f := c.fleets[name]
		f.mu.Lock()
		st.Fleets = append(st.Fleets, fleetJSON{Name: name, Desired: f.desired, Members: append([]member(nil), f.members...),
			Next: f.next, WarmUp: f.warmUp, Unhealthy: f.unhealthy})
		f.mu.Unlock()
	}
	for _, name := range sortedKeys(c.targets) {
		tg := c.targets[name]
		tg.mu.Lock()
		if tg.explicit {
			tj := targetJSON{Name: name}
			for _, pc := range tg.profiles[1:] {
				tj.Profiles = append(tj.Profiles, profileJSON{At: pc.at, Profile: pc.p})
			}
			st.Targets = append(st.Targets, tj)
		}
		tg.mu.Unlock()
	}
	c.alarmMu.Lock()
	for _, name := range sortedKeys(c.alarms) {
		a := c.alarms[name]
		st.Alarms = append(st.Alarms, alarmJSON{Name: name, Spec: a.spec, State: string(a.state), Reason: a.reason, Updated: a.updated})
	}
	c.alarmMu.Unlock()
	return st
}

func (d *door) toJSON() doorJSON {
	dj := doorJSON{Name: d.name, Targets: d.targets}
	for _, s := range d.snapshot() {
		dj.History = append(dj.History, stateJSON{At: s.at, Rate: s.rate, Weights: s.w})
	}
	return dj
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Load returns a cloud with the state saved at path. The saved seed,
// default rate, profile, latency objective and warm-up replace those of
// opts; the clock, logger and limits come from opts. The clock should not
// be behind the saved time (SavedAt reads it), or changes made now would
// be recorded as made at the last saved change.
func Load(path string, opts Options) (*Cloud, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fake: load: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("fake: load %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("fake: load %s: version %d, want %d", path, st.Version, stateVersion)
	}
	opts.Seed, opts.Rate, opts.Profile, opts.LatencyObjective, opts.WarmUp = st.Seed, st.Rate, st.Profile, st.LatencyObjective, st.WarmUp
	c, err := New(opts)
	if err != nil {
		return nil, fmt.Errorf("fake: load %s: %w", path, err)
	}
	if err := c.restore(st); err != nil {
		return nil, fmt.Errorf("fake: load %s: %w", path, err)
	}
	return c, nil
}

// SavedAt returns the clock time at which the state at path was saved, so
// a process resuming it can start its clock there.
func SavedAt(path string) (time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("fake: saved at: %w", err)
	}
	var st struct {
		SavedAt time.Time `json:"saved_at"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return time.Time{}, fmt.Errorf("fake: saved at %s: %w", path, err)
	}
	return st.SavedAt, nil
}

func (c *Cloud) restore(st stateFile) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	mkDoor := func(kind string, dj doorJSON) (*door, error) {
		if dj.Name == "" || len(dj.Targets) == 0 || len(dj.History) == 0 {
			return nil, fmt.Errorf("%s %q: missing name, targets or history", kind, dj.Name)
		}
		d := &door{name: dj.Name, targets: dj.Targets}
		for i, t := range dj.Targets {
			if t == "" || d.indexOf(t) != i {
				return nil, fmt.Errorf("%s %q: bad target %q", kind, dj.Name, t)
			}
		}
		for i, h := range dj.History {
			if len(h.Weights) != len(dj.Targets) {
				return nil, fmt.Errorf("%s %q: history %d: %d weights for %d targets", kind, dj.Name, i, len(h.Weights), len(dj.Targets))
			}
			sum := 0
			for _, w := range h.Weights {
				if w < 0 || w > 100 {
					return nil, fmt.Errorf("%s %q: history %d: weight %d outside 0–100", kind, dj.Name, i, w)
				}
				sum += w
			}
			switch {
			case sum != 100:
				return nil, fmt.Errorf("%s %q: history %d: weights sum to %d, want 100", kind, dj.Name, i, sum)
			case !(h.Rate >= 0 && h.Rate <= 1e9):
				return nil, fmt.Errorf("%s %q: history %d: rate %g outside 0–1e9", kind, dj.Name, i, h.Rate)
			case i > 0 && h.At.Before(dj.History[i-1].At):
				return nil, fmt.Errorf("%s %q: history %d: at %s before the entry above it", kind, dj.Name, i, h.At)
			}
			d.hist = append(d.hist, doorState{at: h.At, from: ceilSecond(h.At), rate: h.Rate, w: h.Weights})
		}
		c.attachLocked(d)
		return d, nil
	}
	for _, dj := range st.Routers {
		d, err := mkDoor("router", dj)
		if err != nil {
			return err
		}
		c.routers[dj.Name] = &Router{c: c, name: dj.Name, d: d}
	}
	for _, dj := range st.Switchers {
		d, err := mkDoor("switcher", dj)
		if err != nil {
			return err
		}
		c.switchers[dj.Name] = &Switcher{c: c, name: dj.Name, d: d}
	}
	for _, fj := range st.Fleets {
		switch {
		case fj.Name == "" || fj.Desired < 0 || fj.Desired > MaxFleetSize || fj.Desired != len(fj.Members):
			return fmt.Errorf("fleet %q: bad desired count %d for %d members", fj.Name, fj.Desired, len(fj.Members))
		case fj.WarmUp < 0 || fj.Unhealthy < 0:
			return fmt.Errorf("fleet %q: negative warm-up or unhealthy count", fj.Name)
		}
		c.fleets[fj.Name] = &Fleet{c: c, name: fj.Name, desired: fj.Desired, members: fj.Members, next: fj.Next,
			warmUp: fj.WarmUp, unhealthy: fj.Unhealthy}
		c.targetLocked(fj.Name)
	}
	for _, tj := range st.Targets {
		tg := c.targetLocked(tj.Name)
		tg.explicit = true
		for _, pj := range tj.Profiles {
			if err := pj.Profile.Validate(); err != nil {
				return fmt.Errorf("target %q: %w", tj.Name, err)
			}
			tg.setProfileLocked(newProfileChange(pj.At, pj.Profile, c.opts.LatencyObjective))
		}
	}
	for _, aj := range st.Alarms {
		a := &alarm{spec: aj.Spec, state: providers.AlarmState(aj.State), reason: aj.Reason, updated: aj.Updated}
		switch a.state {
		case providers.AlarmOK, providers.AlarmAlarm, providers.AlarmInsufficientData:
		default:
			return fmt.Errorf("alarm %q: state %q unknown", aj.Name, aj.State)
		}
		if aj.Spec != nil {
			if err := aj.Spec.validate(); err != nil || aj.Spec.Window <= 0 {
				return fmt.Errorf("alarm %q: bad spec %+v", aj.Name, *aj.Spec)
			}
		}
		c.alarms[aj.Name] = a
	}
	return nil
}

// Open returns the cloud saved at path, or a new one (New(opts)) if there
// is no file yet, and saves its state to path after every change from then
// on, before the change's call returns: a process killed at any moment
// leaves a file that Open resumes. Saving rewrites the whole state, so
// keep Open for crash tests, not for thousands of cutovers.
func Open(path string, opts Options) (*Cloud, error) {
	c, err := Load(path, opts)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if c, err = New(opts); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.statePath = path
	c.persist.Store(true)
	return c, c.saveLocked(path)
}

// changed saves the state when the cloud was opened with Open.
func (c *Cloud) changed() error {
	if !c.persist.Load() {
		return nil
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	if c.statePath == "" {
		return nil
	}
	err := c.saveLocked(c.statePath)
	if err != nil {
		c.log.Error("fake: saving state", zap.Error(err))
	}
	return err
}

// writeFileAtomic writes data to a temporary file next to path, syncs it
// and renames it over path, then syncs the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}
