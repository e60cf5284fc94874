package workflows

import (
	"reflect"
	"testing"

	"github.com/breachops/breach/activities"
)

// The workflows name their activities (a, da) rather than import them: each name must be a
// method the worker registers, or a task would wait for an activity no worker has.
func TestActivityNames(t *testing.T) {
	for _, c := range []struct {
		names any
		impl  reflect.Type
	}{
		{a, reflect.TypeOf(&activities.Activities{})},
		{da, reflect.TypeOf(&activities.DrillActivities{})},
	} {
		v := reflect.ValueOf(c.names)
		for i := range v.NumField() {
			field, name := v.Type().Field(i).Name, v.Field(i).String()
			if name != field {
				t.Errorf("the activity name %s is %q", field, name)
			}
			if _, ok := c.impl.MethodByName(name); !ok {
				t.Errorf("%s has no method %s: no worker would run that activity", c.impl, name)
			}
		}
	}
}
