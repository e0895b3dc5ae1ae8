from germinate.cli import main

main()
