from lorlint.cli import main

raise SystemExit(main())
