import { Type, type Static } from '@sinclair/typebox';

/**
 * Configuration section `board`: the status LED and button. `driver: none` (the default) runs the
 * agent without either; the other sub-sections are read only by their driver. Every field has a
 * default, so `{ "driver": "gpio" }` works with the wiring in docs/board.md.
 */
const Line = (def: number, description: string) => Type.Integer({ minimum: 0, maximum: 511, default: def, description });

export const BoardGpioSection = Type.Object(
  {
    chip: Type.String({
      pattern: '^[A-Za-z0-9_.:-]{1,64}$',
      default: 'gpiochip0',
      description: 'GPIO chip name or number as gpiodetect lists it (Pi 4 and Pi 5 with current kernels: gpiochip0; older Pi 5 kernels: gpiochip4)',
    }),
    red: Line(17, 'Line offset of the red LED (BCM numbering on the Pi header)'),
    green: Line(27, 'Line offset of the green LED'),
    blue: Type.Optional(Type.Integer({ minimum: 0, maximum: 511, description: 'Line offset of the blue LED of an RGB LED (wiring in docs/board.md: 22); absent for a red/green LED pair' })),
    button: Line(23, 'Line offset of the button'),
    activeLow: Type.Boolean({ default: false, description: 'LED lines are active-low (common-anode RGB LED wired to 3.3 V)' }),
    buttonActiveLow: Type.Boolean({
      default: true,
      description: 'Button connects its line to ground (internal pull-up used); false: to 3.3 V (pull-down)',
    }),
  },
  { default: {}, additionalProperties: false },
);

const Pin = (def: number, description: string) => Type.Integer({ minimum: 0, maximum: 127, default: def, description });

export const BoardFirmataSection = Type.Object(
  {
    port: Type.String({
      minLength: 1,
      maxLength: 256,
      default: '/dev/ttyACM0',
      description: 'Serial device of the Firmata panel (prefer the stable /dev/serial/by-id/… link)',
    }),
    red: Pin(9, 'Digital pin of the red LED'),
    green: Pin(10, 'Digital pin of the green LED'),
    blue: Type.Optional(Type.Integer({ minimum: 0, maximum: 127, description: 'Digital pin of the blue LED (wiring in docs/board.md: 11); absent for a red/green LED pair' })),
    button: Pin(2, 'Digital pin of the button'),
    activeLow: Type.Boolean({ default: false, description: 'LED pins are active-low (common-anode RGB LED)' }),
    buttonActiveLow: Type.Boolean({ default: true, description: 'Button connects its pin to ground (internal pull-up used)' }),
  },
  { default: {}, additionalProperties: false },
);

export const BoardSection = Type.Object(
  {
    driver: Type.Union([Type.Literal('none'), Type.Literal('gpio'), Type.Literal('firmata')], {
      default: 'none',
      description: 'Status LED and button: none, gpio (Raspberry Pi header via the GPIO character device), firmata (USB status panel)',
    }),
    gpio: BoardGpioSection,
    firmata: BoardFirmataSection,
  },
  { default: {}, additionalProperties: false },
);

export type BoardConfig = Static<typeof BoardSection>;
