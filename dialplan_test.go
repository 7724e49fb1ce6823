package autocall

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each builder call returns a new plan: a shared base is never changed.
func TestDialplanIsImmutable(t *testing.T) {
	base := NewDialplan().Text("Xin chào")
	a := base.Recording("r1")
	b := base.Recording("r2")
	require.Equal(t, 1, base.Len())
	require.Equal(t, 2, a.Len())
	require.Equal(t, 2, b.Len())
	assert.Equal(t, "r1", a.steps[1].Target)
	assert.Equal(t, "r2", b.steps[1].Target)

	var nilPlan *Dialplan
	assert.Equal(t, 1, nilPlan.Text("x").Len(), "a nil plan is empty")
}

var sharedGreeting = NewDialplan().Text("Kính chào quý khách").Recording("greeting")

// Run under -race: goroutines extending one package-level base.
func TestDialplanSharedAcrossGoroutines(t *testing.T) {
	var wg sync.WaitGroup
	plans := make([]*Dialplan, 32)
	for i := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plans[i] = sharedGreeting.Text(fmt.Sprintf("Mã %d", i)).IVRMenu("menu")
		}()
	}
	wg.Wait()
	assert.Equal(t, 2, sharedGreeting.Len())
	for i, p := range plans {
		_, vars, err := p.wire()
		require.NoError(t, err)
		assert.Equal(t, []string{"Kính chào quý khách", fmt.Sprintf("Mã %d", i)}, vars)
	}
}
