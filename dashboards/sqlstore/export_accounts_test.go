package sqlstore

import "io/fs"

// MigrationsFS is the embedded migrations folder (migration tests run goose
// on it directly).
var MigrationsFS fs.FS = mustSub(migrations, "migrations")
