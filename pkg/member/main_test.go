package member_test

import (
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }
