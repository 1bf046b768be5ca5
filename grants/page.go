package grants

import "gorm.io/gorm"

// Page asks for one page of a list, newest first: the rows whose id is
// below Before (0 = from the newest), at most Size of them.
type Page struct {
	Before int64
	Size   int
}

// keysetPage reads one page of rows of tx, newest id first. more says
// whether older rows follow.
func keysetPage[T any](tx *gorm.DB, p Page, out *[]T) (more bool, err error) {
	if p.Before > 0 {
		tx = tx.Where("id < ?", p.Before)
	}
	if err := tx.Order("id DESC").Limit(p.Size + 1).Find(out).Error; err != nil {
		return false, err
	}
	if len(*out) > p.Size {
		*out = (*out)[:p.Size]
		return true, nil
	}
	return false, nil
}
