// Package journalflag opens a cutover's journal and lease from one flag
// value, the same way in every program: cutoverctl, the examples, and
// tools built on the library.
//
// The value is either a directory, which holds a file journal and its
// lease (cutover.NewFileJournal, cutover.NewFileLease), or dynamodb:TABLE,
// a DynamoDB table that holds the journal and the lease
// (awsprovider.NewDynamoDBJournal, awsprovider.NewDynamoDBLease):
//
//	-journal .safecutover
//	-journal dynamodb:safecutover
//
// Register defines the flag; Parse checks a value without I/O (for a
// usage error before anything runs); Open opens the journal, after
// checking the DynamoDB table (or creating it, with Options.CreateTable)
// and that an AWS region is set; Store.Lease opens the lease on the clock
// the program runs on:
//
//	var journal string
//	fs := flag.NewFlagSet("mytool", flag.ContinueOnError)
//	journalflag.Register(fs, &journal, ".safecutover")
//	if err := fs.Parse(os.Args[1:]); err != nil {
//		return err
//	}
//	store, err := journalflag.Open(ctx, journal, journalflag.Options{})
//	if err != nil {
//		return err // names -journal and the allowed forms
//	}
//	lease, err := store.Lease(cutover.RealClock{})
//	if err != nil {
//		return err
//	}
//	runner, err := cutover.NewRunner(store.Journal, cutover.RunnerOptions{Lease: lease})
//	if err != nil {
//		return err
//	}
//
// The flag -dynamodb-table, which older versions of the examples took,
// stays registered only to answer with an error that names
// -journal dynamodb:TABLE.
package journalflag
