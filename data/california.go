package data

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const calMember = "CaliforniaHousing/cal_housing.data"

func californiaDataset() *dataset {
	return &dataset{
		name: "california_housing",
		dir:  "california_housing",
		sources: []sourceFile{{
			Name:   "cal_housing.tgz",
			URL:    "https://ndownloader.figshare.com/files/5976036",
			SHA256: "aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681",
			Size:   441963,
		}},
		outputs: []string{"X.npy", "y.npy", "train_idx.npy", "test_idx.npy"},
		build:   buildCalifornia,
	}
}

// CaliforniaFeatures are the columns of X, as scikit-learn names them.
var CaliforniaFeatures = []string{"MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"}

// calMaxMember bounds a member of the California Housing archive: its data
// file has 1.4 MB (20640 rows of 9 numbers).
const calMaxMember = 16 << 20

func buildCalifornia(b *buildCtx) (string, error) {
	src := b.src[0]
	f, err := os.Open(src.path)
	if err != nil {
		return "", b.errf(src.src.Name, "%v", err)
	}
	defer f.Close()
	var raw []byte
	err = walkTarGz(f,
		map[string]bool{calMember: true, "CaliforniaHousing/cal_housing.domain": true},
		map[string]bool{"CaliforniaHousing": true}, calMaxMember,
		func(m tarMember) error {
			if m.Name != calMember {
				return nil // known member we do not need
			}
			var err error
			raw, err = readExactly(m)
			return err
		})
	if err != nil {
		return "", b.errf(src.src.Name, "%v", err)
	}
	if raw == nil {
		return "", b.errf(src.src.Name, "archive lacks %s", calMember)
	}
	X, y, err := parseCalHousing(raw)
	if err != nil {
		return "", b.errf(calMember, "%v", err)
	}
	n := len(y)
	train, test := randomSplit(n, Seed, "california_housing/split")
	for _, w := range []struct {
		name, dt string
		shape    []int
		v        []float64
	}{
		{"X.npy", "<f8", []int{n, 8}, X},
		{"y.npy", "<f8", []int{n}, y},
		{"train_idx.npy", "<i8", []int{len(train)}, intsToFloats(train)},
		{"test_idx.npy", "<i8", []int{len(test)}, intsToFloats(test)},
	} {
		if err := WriteNPYFile(filepath.Join(b.out, w.name), w.dt, w.shape, w.v); err != nil {
			return "", b.errf(w.name, "%v", err)
		}
	}
	return fmt.Sprintf("%d rows x 8 features (scikit-learn fetch_california_housing layout); split %d train / %d test, seed %d", n, len(train), len(test), Seed), nil
}

// parseCalHousing turns cal_housing.data (longitude, latitude,
// housingMedianAge, totalRooms, totalBedrooms, population, households,
// medianIncome, medianHouseValue) into scikit-learn's features and target,
// with the same arithmetic as fetch_california_housing.
func parseCalHousing(raw []byte) (X, y []float64, err error) {
	lines := bytes.Split(raw, []byte("\n"))
	for ln, line := range lines {
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		f := strings.Split(s, ",")
		if len(f) != 9 {
			return nil, nil, fmt.Errorf("line %d: %d columns, want 9", ln+1, len(f))
		}
		var v [9]float64
		for i, c := range f {
			v[i], err = strconv.ParseFloat(strings.TrimSpace(c), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d column %d: %v", ln+1, i+1, err)
			}
		}
		lon, lat, age, rooms, bedrms, pop, hh, inc, val := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]
		X = append(X, inc, age, rooms/hh, bedrms/hh, pop, pop/hh, lat, lon)
		y = append(y, val/100000)
	}
	if len(y) == 0 {
		return nil, nil, fmt.Errorf("no rows")
	}
	return X, y, nil
}
