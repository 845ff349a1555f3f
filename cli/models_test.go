package cli

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// models.py says a bad --from in one line and exits 2: the CLI adds nothing
// (an empty message, which Main does not print) but keeps the failure.
func TestModelsPrepareBadInputAddsNoSecondLine(t *testing.T) {
	err := modelsPrepareError(exec.Command("sh", "-c", "exit 2").Run(), "/x/models.py")
	var ec cli.ExitCoder
	require.ErrorAs(t, err, &ec)
	assert.Equal(t, ExitError, ec.ExitCode())
	assert.Empty(t, err.Error())

	err = modelsPrepareError(exec.Command("sh", "-c", "exit 1").Run(), "/x/models.py")
	assert.EqualError(t, err, "models prepare: models.py: exit status 1")
	assert.NoError(t, modelsPrepareError(nil, "/x/models.py"))
}
