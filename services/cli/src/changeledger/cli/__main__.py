from changeledger.cli.main import main

main()
